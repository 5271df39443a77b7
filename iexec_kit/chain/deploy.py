"""Deploy the protocol: the RLC token, the hub (router + modules), the registries, the
categories."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from eth_utils import function_abi_to_4byte_selector

from iexec_kit.chain import artifacts
from iexec_kit.chain.accounts import Participant
from iexec_kit.chain.node import Chain
from iexec_kit.errors import ArtifactError
from iexec_kit.protocol.categories import DEFAULT_CATEGORIES
from iexec_kit.protocol.units import RLC_DECIMALS, ZERO_ADDRESS

HUB_TOKEN_NAME = "Staked RLC"
HUB_TOKEN_SYMBOL = "SRLC"


@dataclass(frozen=True)
class Deployment:
    """The addresses of one deployed protocol."""

    rlc: str
    hub: str
    appregistry: str
    datasetregistry: str
    workerpoolregistry: str
    modules: dict

    def as_dict(self) -> dict:
        return asdict(self)


def module_selectors(name: str) -> list[bytes]:
    """The 4-byte selectors of a module's external functions."""
    return [
        function_abi_to_4byte_selector(e) for e in artifacts.abi(name) if e["type"] == "function"
    ]


def check_no_clashes(modules=artifacts.HUB_MODULES) -> None:
    """Two modules (or a module and the router) exposing one selector would shadow each other."""
    owner_of = {sel: "IexecRouter" for sel in module_selectors("IexecRouter")}
    for name in modules:
        for sel in module_selectors(name):
            if sel in owner_of:
                raise ArtifactError(
                    f"selector 0x{sel.hex()} is in both {owner_of[sel]} and {name}",
                    hint="rename one of the functions",
                )
            owner_of[sel] = name


def configure_hub(chain: Chain, hub, rlc: str, registries: dict[str, str], deployer: Participant):
    """The hub's ``configure``: its token (the kit's RLC), the token's name, symbol and decimals
    as the hub reports them, and the three registries; no v3 hub to import scores from (PoCo's
    migration argument, which the kit ignores). The same call on the kit's hub and on PoCo's."""
    return chain.transact(
        hub.functions.configure(
            rlc,
            HUB_TOKEN_NAME,
            HUB_TOKEN_SYMBOL,
            RLC_DECIMALS,
            registries["AppRegistry"],
            registries["DatasetRegistry"],
            registries["WorkerpoolRegistry"],
            ZERO_ADDRESS,
        ),
        deployer,
    )


def create_categories(chain: Chain, hub, deployer: Participant) -> list:
    """The kit's categories (:data:`DEFAULT_CATEGORIES`), created in order; their receipts."""
    return [
        chain.transact(
            hub.functions.createCategory(
                cat.name, f'{{"name":"{cat.name}","clock":{cat.clock}}}', cat.clock
            ),
            deployer,
        )
        for cat in DEFAULT_CATEGORIES
    ]


def deploy_protocol(chain: Chain, deployer: Participant | None = None) -> Deployment:
    """Deploy everything, route the hub's selectors to its modules, configure it, set the EIP-712
    domain separator, create the categories."""
    deployer = deployer or chain.deployer
    check_no_clashes()
    rlc, _ = chain.deploy(artifacts.load("RLC"), deployer)
    hub, _ = chain.deploy(artifacts.load("IexecRouter"), deployer, deployer.address)
    router = chain.contract(artifacts.abi("IexecRouter"), hub)
    modules = {}
    for name in artifacts.HUB_MODULES:
        address, _ = chain.deploy(artifacts.load(name), deployer)
        chain.transact(router.functions.updateModule(address, module_selectors(name)), deployer)
        modules[name] = address
    registries = {}
    for name in ("AppRegistry", "DatasetRegistry", "WorkerpoolRegistry"):
        registries[name], _ = chain.deploy(artifacts.load(name), deployer)
    hub_c = chain.contract(artifacts.hub_abi(), hub)
    configure_hub(chain, hub_c, rlc, registries, deployer)
    chain.transact(hub_c.functions.updateDomainSeparator(), deployer)
    create_categories(chain, hub_c, deployer)
    return Deployment(
        rlc=rlc,
        hub=hub,
        appregistry=registries["AppRegistry"],
        datasetregistry=registries["DatasetRegistry"],
        workerpoolregistry=registries["WorkerpoolRegistry"],
        modules=modules,
    )
