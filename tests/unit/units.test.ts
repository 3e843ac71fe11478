// The component units: each component built in-process under the shared mocks (build.ts), one module
// per component. They run from this one test file so that the SDKs the components import load once
// for all of them, not once per component.
import "./logAnalytics";
import "./network";
import "./privateDns";
import "./identity";
import "./secureStorage";
import "./secureKeyVault";
import "./aksCluster";
import "./podIdentityBinding";
import "./aadPodIdentity";
import "./demoWorkloads";
