from site_agent.cli import main

raise SystemExit(main())
