"""Off-chain roles, and the events they emit. Import the module you need; nothing heavy is
imported here.

- :mod:`~iexec_kit.actors.requester`: buy an execution (best orders, funds checked, matchOrders);
- :mod:`~iexec_kit.actors.scheduler`: the workerpool's scheduler (like iexec-core);
- :mod:`~iexec_kit.actors.worker`: workers (like iexec-worker), with teaching behaviours;
- :mod:`~iexec_kit.actors.events`: typed events and the :class:`EventStream` views subscribe to;
- :mod:`~iexec_kit.actors.drive`: the deterministic drive (run to the end, or a generator of
  events);
- :mod:`~iexec_kit.actors.demo`: the whole demo in one call (what ``iexec-kit demo`` runs).
"""
