// The pure helpers, tested without mocks: config's schema and rules, the components' and the
// identity-mode drivers' helpers, and the label guard's CEL. One module per topic; they run from this
// one test file so that the libraries they import load once for all of them.
import "./config";
import "./components";
import "./cluster";
import "./drivers";
import "./labelGuard";
import "./crdGuard";
import "./azureCatalog";
