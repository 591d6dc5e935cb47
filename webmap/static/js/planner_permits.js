// The planner page add-on for permits (issue 16): registers in window.plannerAddons.
"use strict";
