from spa2v.interfaces.cli import main

raise SystemExit(main())
