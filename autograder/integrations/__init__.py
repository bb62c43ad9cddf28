"""How tfkit plugs into other tools: nbgrader, pytest and Gradescope."""
