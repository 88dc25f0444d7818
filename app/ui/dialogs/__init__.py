"""The app's dialogs, one module each: ``new_task`` (with the spec it builds), ``settings``
(with its rules editor), ``project_settings`` (a repository's worktree settings), ``quit``
and ``cancel_task``. Each validates what it returns and
says why a value is refused; none of them sends a command itself (the window does).

Dialogs that belong to one view live with it (recovery history, workflows, approvals).
"""
