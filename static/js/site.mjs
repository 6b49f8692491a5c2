import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

// The frontend only console.logs a component that fails to start; as an error it fails the
// browser tests (and shows in monitoring) instead of leaving a control quietly without its script.
initAll({ onError: (error) => console.error(error) });
import "./timeout.mjs";
