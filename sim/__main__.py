from mmsched.sim.cli import main

raise SystemExit(main())
