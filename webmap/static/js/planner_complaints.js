// The planner page add-on for complaints (issue 16): registers in window.plannerAddons.
"use strict";
