// A DNS server on loopback UDP that answers as a VNet's resolver answers for private endpoints: a
// public data-plane name is an alias (CNAME) of its name in the `privatelink` zone, whose A record is
// the endpoint's private address. Only what the verifier asks is implemented: A and CNAME queries,
// one question per message, NXDOMAIN for a name it does not hold.
import * as dgram from "dgram";

/** What the server holds for one name: an alias, or addresses, or both (the alias's addresses). */
export interface DnsRecord {
    cname?: string;
    addresses?: string[];
}

const TYPE_A = 1;
const TYPE_CNAME = 5;

/** The name at `offset` of a message (no compression: queries do not use it), and where it ends. */
function readName(message: Buffer, offset: number): { name: string; end: number } {
    const labels: string[] = [];
    let at = offset;
    while (message[at] !== 0) {
        const length = message[at];
        labels.push(message.subarray(at + 1, at + 1 + length).toString("ascii"));
        at += 1 + length;
    }
    return { name: labels.join(".").toLowerCase(), end: at + 1 };
}

function encodeName(name: string): Buffer {
    const parts = name.split(".").filter((l) => l !== "");
    return Buffer.concat([...parts.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, "ascii")])), Buffer.from([0])]);
}

function record(name: string, type: number, data: Buffer): Buffer {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(type, 0);
    fixed.writeUInt16BE(1, 2); // IN
    fixed.writeUInt32BE(60, 4); // TTL
    fixed.writeUInt16BE(data.length, 8);
    return Buffer.concat([encodeName(name), fixed, data]);
}

/** The answer to one query message, from `zone`. Exported for testing. */
export function answer(query: Buffer, zone: ReadonlyMap<string, DnsRecord>): Buffer {
    const { name, end } = readName(query, 12);
    const qtype = query.readUInt16BE(end);
    const question = query.subarray(12, end + 4);
    const answers: Buffer[] = [];
    let current = name;
    let found = zone.has(current);
    for (let hops = 0; hops < 8 && zone.has(current); hops++) {
        const entry = zone.get(current) ?? {};
        if (entry.cname !== undefined) {
            answers.push(record(current, TYPE_CNAME, encodeName(entry.cname)));
            if (qtype === TYPE_CNAME) {
                break;
            }
            current = entry.cname.toLowerCase();
            found = found || zone.has(current);
            continue;
        }
        if (qtype === TYPE_A) {
            for (const address of entry.addresses ?? []) {
                answers.push(record(current, TYPE_A, Buffer.from(address.split(".").map(Number))));
            }
        }
        break;
    }
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0); // id
    header.writeUInt16BE(0x8180 | (found ? 0 : 3), 2); // response, recursion desired and available; NXDOMAIN when unknown
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    return Buffer.concat([header, question, ...answers]);
}

/** A running fake resolver: its `host:port`, its records (changeable while it runs), and how to stop it. */
export interface FakeDns {
    server: string;
    zone: Map<string, DnsRecord>;
    close(): Promise<void>;
}

export async function startFakeDns(records: Record<string, DnsRecord>): Promise<FakeDns> {
    const zone = new Map(Object.entries(records).map(([k, v]) => [k.toLowerCase(), v]));
    const socket = dgram.createSocket("udp4");
    socket.on("message", (message, peer) => socket.send(answer(message, zone), peer.port, peer.address));
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    return {
        server: `127.0.0.1:${socket.address().port}`,
        zone,
        close: () => new Promise((resolve) => socket.close(() => resolve())),
    };
}
