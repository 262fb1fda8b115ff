"""``python -m mlops_actions.action``: the composite action's run step."""

from mlops_actions.action.entry import main

raise SystemExit(main())
