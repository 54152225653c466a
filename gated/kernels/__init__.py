"""Fast paths for the recurrent layers; ``_dispatch`` decides, explicitly, which one runs and why."""
