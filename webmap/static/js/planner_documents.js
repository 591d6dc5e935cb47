// The planner page add-on for documents (issue 16): registers in window.plannerAddons.
"use strict";
