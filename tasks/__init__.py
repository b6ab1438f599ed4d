"""One package per task, each defining TASK, its core.task.Task object;
the shared layers reach a task only through core.task.get_task."""
