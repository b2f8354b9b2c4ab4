from mcp_pii.cli import main

raise SystemExit(main())
