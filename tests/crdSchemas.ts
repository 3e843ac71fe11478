// JSON Schemas (draft-07, for ajv) of the custom resources the program declares, written from the
// upstream CustomResourceDefinitions:
//
// - SecretProviderClass, secrets-store.csi.x-k8s.io/v1: kubernetes-sigs/secrets-store-csi-driver
//   v1.6.0, charts/secrets-store-csi-driver/crds/secrets-store.csi.x-k8s.io_secretproviderclasses.yaml
//   (the v1 spec schema is the same in every release since v1.0.0). The driver's own checks that the
//   schema adds are cited where they are used.
// - AzureIdentity, AzureIdentityBinding and AzurePodIdentityException, aadpodidentity.k8s.io/v1: Azure/aad-pod-identity v1.8.17,
//   charts/aad-pod-identity/crds/crd.yaml of chart 4.1.18, the chart version the program installs.
//
// Types, maps and nullability follow the CRDs. Two things differ from a literal copy:
//
// - Unknown fields. None of these CRDs sets `x-kubernetes-preserve-unknown-fields`, so their schemas
//   are structural and the API server prunes a field the schema does not declare: the object is
//   accepted without it (with a warning, or an error when the client asks for strict field
//   validation). The CRDs never forbid unknown fields, so these schemas do not either: no object
//   schema here has `additionalProperties: false`, and `additionalProperties` appears only where a
//   CRD declares a map (its value type). Validation therefore answers "would the API server accept
//   this object", and a misspelt field passes it, as it passes the API server.
// - Required fields. The CRDs mark nothing required. apiVersion, kind and metadata are required
//   here because the API server needs them on every object. The secrets-store driver refuses a
//   SecretProviderClass without a provider and does not sync a secretObjects entry without a name,
//   type, data, objectName or key; those fields are required here too (each with the source of its
//   rule), because an object missing them is accepted by the API server and fails only when a pod
//   mounts it.
import type { SchemaObject } from "ajv";

/** One custom resource's schema: the apiVersion and kind it applies to, and where it comes from. */
export interface CrdSchema {
    apiVersion: string;
    kind: string;
    /** Upstream CRD the schema follows. */
    upstream: string;
    schema: SchemaObject;
}

const string: SchemaObject = { type: "string" };
/** A CRD map of strings (`additionalProperties: {type: string}`): labels, annotations, parameters. */
const stringMap: SchemaObject = { type: "object", additionalProperties: string };
/** `format: int32`, which ajv does not know by name, stated as its range. */
const int32: SchemaObject = { type: "integer", minimum: -2147483648, maximum: 2147483647 };
/** A string the driver rejects when empty (`len(x) == 0`). */
const nonEmptyString: SchemaObject = { type: "string", minLength: 1 };
/** A string the driver rejects when empty after trimming spaces (`len(strings.TrimSpace(x)) == 0`). */
const nonBlankString: SchemaObject = { type: "string", pattern: "\\S" };

/**
 * `metadata`. Every CRD here declares it as a bare `type: object` because the API server validates
 * ObjectMeta itself for every resource; the schema checks the types of the fields the program sets.
 */
const objectMeta: SchemaObject = {
    type: "object",
    properties: {
        name: string,
        namespace: string,
        generateName: string,
        labels: stringMap,
        annotations: stringMap,
    },
};

/** The API server needs apiVersion, kind and metadata on every object it is sent, whatever the CRD says. */
const TOP_LEVEL_REQUIRED = ["apiVersion", "kind", "metadata"];

/** Properties common to every object: apiVersion and kind pinned to the schema's, and metadata. */
function typeMeta(apiVersion: string, kind: string): Record<string, SchemaObject> {
    return { apiVersion: { const: apiVersion }, kind: { const: kind }, metadata: objectMeta };
}

export const SECRET_PROVIDER_CLASS: CrdSchema = {
    apiVersion: "secrets-store.csi.x-k8s.io/v1",
    kind: "SecretProviderClass",
    upstream: "kubernetes-sigs/secrets-store-csi-driver v1.6.0 secretproviderclasses CRD, version v1",
    schema: {
        type: "object",
        // A spec is not in the CRD's required list, but without one there is no provider.
        required: [...TOP_LEVEL_REQUIRED, "spec"],
        properties: {
            ...typeMeta("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass"),
            spec: {
                type: "object",
                // Not in the CRD: pkg/secrets-store/utils.go getProviderFromSPC fails a mount with
                // "provider not set" when spec.provider is empty.
                required: ["provider"],
                properties: {
                    provider: nonEmptyString,
                    parameters: stringMap,
                    secretObjects: {
                        type: "array",
                        items: {
                            type: "object",
                            // Not in the CRD: pkg/util/secretutil/secret.go ValidateSecretObject
                            // refuses to sync an entry whose secretName, type or data is empty.
                            required: ["secretName", "type", "data"],
                            properties: {
                                secretName: nonEmptyString,
                                type: nonEmptyString,
                                labels: stringMap,
                                annotations: stringMap,
                                data: {
                                    type: "array",
                                    minItems: 1,
                                    items: {
                                        type: "object",
                                        // Not in the CRD: GetSecretData (same file) fails on an
                                        // objectName or key that is empty once trimmed.
                                        required: ["objectName", "key"],
                                        properties: { objectName: nonBlankString, key: nonBlankString },
                                    },
                                },
                            },
                        },
                    },
                },
            },
            // v1's status is a bare object; it is written by the driver, never by the program.
            status: { type: "object" },
        },
    },
};

export const AZURE_IDENTITY: CrdSchema = {
    apiVersion: "aadpodidentity.k8s.io/v1",
    kind: "AzureIdentity",
    upstream: "Azure/aad-pod-identity v1.8.17 (chart 4.1.18) azureidentities CRD, version v1",
    schema: {
        type: "object",
        required: TOP_LEVEL_REQUIRED,
        properties: {
            ...typeMeta("aadpodidentity.k8s.io/v1", "AzureIdentity"),
            spec: {
                type: "object",
                properties: {
                    // 0 user-assigned managed identity, 1 service principal, 2 service principal
                    // certificate (pkg/apis/aadpodidentity/types.go); the CRD admits any integer.
                    type: { type: "integer" },
                    resourceID: string,
                    clientID: string,
                    tenantID: string,
                    clientPassword: {
                        type: "object",
                        properties: { name: string, namespace: string },
                    },
                    adResourceID: string,
                    adEndpoint: string,
                    auxiliaryTenantIDs: { type: ["array", "null"], items: string },
                    replicas: { ...int32, type: ["integer", "null"] },
                    metadata: { type: "object" },
                },
            },
            status: {
                type: "object",
                properties: { availableReplicas: int32, metadata: { type: "object" } },
            },
        },
    },
};

export const AZURE_IDENTITY_BINDING: CrdSchema = {
    apiVersion: "aadpodidentity.k8s.io/v1",
    kind: "AzureIdentityBinding",
    upstream: "Azure/aad-pod-identity v1.8.17 (chart 4.1.18) azureidentitybindings CRD, version v1",
    schema: {
        type: "object",
        required: TOP_LEVEL_REQUIRED,
        properties: {
            ...typeMeta("aadpodidentity.k8s.io/v1", "AzureIdentityBinding"),
            spec: {
                type: "object",
                properties: {
                    azureIdentity: string,
                    selector: string,
                    weight: { type: "integer" },
                    metadata: { type: "object" },
                },
            },
            status: {
                type: "object",
                properties: { availableReplicas: int32, metadata: { type: "object" } },
            },
        },
    },
};

export const AZURE_POD_IDENTITY_EXCEPTION: CrdSchema = {
    apiVersion: "aadpodidentity.k8s.io/v1",
    kind: "AzurePodIdentityException",
    upstream: "Azure/aad-pod-identity v1.8.17 (chart 4.1.18) azurepodidentityexceptions CRD, version v1",
    schema: {
        type: "object",
        required: TOP_LEVEL_REQUIRED,
        properties: {
            ...typeMeta("aadpodidentity.k8s.io/v1", "AzurePodIdentityException"),
            spec: {
                type: "object",
                properties: { podLabels: stringMap, metadata: { type: "object" } },
            },
            status: {
                type: "object",
                properties: { status: string, metadata: { type: "object" } },
            },
        },
    },
};

/** Every custom resource the program may declare. */
export const CRD_SCHEMAS: readonly CrdSchema[] = [SECRET_PROVIDER_CLASS, AZURE_IDENTITY, AZURE_IDENTITY_BINDING, AZURE_POD_IDENTITY_EXCEPTION];
