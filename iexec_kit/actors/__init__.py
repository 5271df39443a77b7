"""Off-chain roles (scheduler, workers, requester helpers). Import the module you need, e.g.
``from iexec_kit.actors.requester import buy_execution``; nothing heavy is imported here."""
