"""The front ends on top of everything: the CLI, widgets, plots and the student copier."""
