// The planner page add-on for import (issue 16): registers in window.plannerAddons.
"use strict";
