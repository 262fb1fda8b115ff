"""The composite action (``action.yml``): its environment bootstrap and its inputs → CLI invocations.

``bootstrap.py`` runs first, on the runner's own ``python3``, and prepares a virtual environment under
``$RUNNER_TEMP`` (reused by later steps of the job). ``entry.py`` then runs in that environment and turns
the action's inputs (passed through ``env:``, never pasted into a script) into ``mlops-actions`` commands.
"""
