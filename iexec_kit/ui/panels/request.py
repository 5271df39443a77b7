"""Step 03: the request: the image, the app's style and arguments, the most the requester pays;
"Buy" shows the price check, then the deal, or a sentence saying what is wrong."""

from __future__ import annotations

import random
import threading

import ipywidgets as W

from iexec_kit.protocol.units import RLC
from iexec_kit.tutorial.demo import APP_STYLES
from iexec_kit.ui.html import addr, e, table
from iexec_kit.ui.panels.base import Panel
from iexec_kit.ui.panels.storage import StorageSetupPanel

STYLES = APP_STYLES  # the app's --style choices
PICTURES = ("png", "jpeg")


class RequestRefused(Exception):
    """A sentence for the learner: what is wrong with the request (nothing was signed)."""


class RequestBuilder(Panel):
    """Step 03: the image (a URL, /ipfs/<cid>/<name>, a local path, a file uploaded, or the
    sample), the app's style and extra arguments, the max prices, trust and volume.

    "Buy" checks the fields first (an empty image, a URL that does not answer, a file that is not
    a picture, max prices below the orders', a volume above what they have left, trust 0: each a
    sentence in the panel, and nothing signed or locked), then shows the price check (the orders
    chosen and the requester's funds, :func:`iexec_kit.actors.requester.quote_execution`), then
    signs and matches: the deal. Pressing Buy again does not buy a second deal ("New request"
    starts over)."""

    title = "Request builder"

    def __init__(
        self,
        sb,
        *,
        storage: StorageSetupPanel | None = None,
        seed: int = 0,
        save_choices: bool | str = False,
    ):
        self.sb, self.storage = sb, storage
        # True: a bought request's choices are saved for the next notebooks
        # (iexec_kit.tutorial.choices); a path: saved there
        self.save_choices = save_choices
        self.saved_to = None
        self._sources: dict[str, str | None] = {}  # image URL -> the file it came from
        # the salts: deterministic, one per purchase
        self.rng = random.Random(f"request-builder-{seed}")
        self.match = None
        self._busy = threading.Lock()
        self.image = W.Text(
            placeholder="http(s) URL, /ipfs/<cid>/<name> or a local path",
            description="image",
            layout=W.Layout(width="70%"),
        )
        self.upload = W.FileUpload(accept="image/*", multiple=False, description="Upload")
        self.upload.observe(lambda _: self._on_upload(), names="value")
        self.style = W.Dropdown(options=list(STYLES), value="gimpfu", description="style")
        self.args = W.Text(
            value="--engine numpy", description="more args", layout=W.Layout(width="70%")
        )
        self.app_max = W.FloatText(value=1.0, description="app max", step=0.5)
        self.pool_max = W.FloatText(value=1.0, description="pool max", step=0.5)
        self.trust = W.BoundedIntText(value=1, min=0, max=100, description="trust")
        self.volume = W.BoundedIntText(value=1, min=1, max=1000, description="volume")
        self.message = W.HTML()
        self.quote_view = W.HTML()
        self.deal = W.HTML()
        self.sample_button = self._button("Use the sample image", self.use_sample)
        self.buy_button = self._button(
            "Buy", self.buy, button_style="success", icon="shopping-cart"
        )
        self.new_button = self._button("New request", self.reset)
        super().__init__(
            [
                W.HBox([self.image, self.sample_button, self.upload]),
                W.HBox([self.style, self.args]),
                W.HBox([self.app_max, self.pool_max], layout=W.Layout(flex_flow="row wrap")),
                W.HBox([self.trust, self.volume], layout=W.Layout(flex_flow="row wrap")),
                W.HTML("<small>max prices in RLC per task</small>"),
                W.HBox([self.buy_button, self.new_button]),
                self.message,
                self.quote_view,
                self.deal,
            ]
        )

    # ----- the image ----------------------------------------------------------------------------
    def use_sample(self) -> str:
        """Put data/chelsea.png on the sandbox's IPFS and use its URL."""
        from iexec_kit.tutorial.demo import publish_input

        self.image.value = publish_input(self.sb, None)
        self._sources[self.image.value] = None
        self.message.value = ""
        self.say(f"sample image on IPFS: {self.image.value}")
        return self.image.value

    def upload_bytes(self, name: str, data: bytes) -> str:
        """A file the learner uploaded: a picture goes on the sandbox's IPFS (its URL fills the
        image field); anything else is refused with a sentence."""
        from iexec_kit.compute.fetch import sniff
        from iexec_kit.tutorial.demo import publish_input

        kind = sniff(bytes(data[:16]))
        if kind not in PICTURES:
            return self._refuse(
                f"{name} is not a picture (its bytes look like {kind}): upload a PNG or JPEG."
            )
        folder = self.sb.folder / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (name.replace("/", "_") or "upload.png")
        path.write_bytes(bytes(data))
        self.image.value = publish_input(self.sb, str(path))
        self._sources[self.image.value] = str(path)
        self.message.value = ""
        self.say(f"{name} uploaded to IPFS: {self.image.value}")
        return self.image.value

    def _on_upload(self) -> None:
        files = self.upload.value
        if not files:
            return
        f = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        name = f.get("name") or f.get("metadata", {}).get("name", "upload")
        self.clear()
        try:
            self.upload_bytes(name, bytes(f["content"]))
        except Exception as exc:  # noqa: BLE001 - shown in the panel
            self.show_error(exc)

    def _refuse(self, sentence: str) -> None:
        self.message.value = (
            f"<div class='iexec-problem' style='color:#c00'>✘ {e(sentence)} "
            "Nothing was signed or locked.</div>"
        )
        return None

    def _check_image(self, image: str) -> str:
        """The image's URL for the params; raises RequestRefused with a sentence when the image
        is missing, does not answer or is not a picture."""
        from iexec_kit.compute.fetch import sniff
        from iexec_kit.errors import KitValueError
        from iexec_kit.tutorial.demo import publish_input

        if not image:
            raise RequestRefused(
                "The image field is empty: give a URL, /ipfs/<cid>/<name>, a local path, upload "
                "a file, or press 'Use the sample image'."
            )
        if image.startswith(("http://", "https://")):
            import requests

            try:
                r = requests.get(image, timeout=3, stream=True)
                head = r.raw.read(16)
                r.close()
            except requests.RequestException as exc:
                raise RequestRefused(
                    f"The URL {image} does not answer ({type(exc).__name__}); the workers could "
                    "not download it."
                ) from None
            if r.status_code != 200:
                raise RequestRefused(
                    f"The URL {image} answers HTTP {r.status_code}, not a picture."
                )
        elif image.startswith(("/ipfs/", "ipfs://")):
            path = image.split("ipfs/", 1)[1].lstrip("/")
            try:
                head = self.sb.storage.ipfs.cat(path)[:16]
            except Exception as exc:  # noqa: BLE001 - any storage failure is one sentence
                raise RequestRefused(
                    f"{image} is not on the sandbox's IPFS node ({type(exc).__name__})."
                ) from None
        else:
            try:
                url = publish_input(self.sb, image)
                self._sources[url] = image
                return url
            except KitValueError as exc:
                first = str(exc).split("\n")[0].split("; nothing was signed")[0]
                raise RequestRefused(first.rstrip(".") + ".") from None
        kind = sniff(bytes(head))
        if kind not in PICTURES:
            raise RequestRefused(f"{image} is not a picture (its bytes look like {kind}).")
        return image

    # ----- the request --------------------------------------------------------------------------
    def params(self, image_url: str | None = None):
        """The request's params from the fields (and the storage panel's choice, if any)."""
        from iexec_kit.poco.orders import RequestParams

        url = image_url if image_url is not None else self.image.value.strip()
        inputs = (url,) if url else ()
        extra = self.storage.params() if self.storage is not None else {}
        args = f"--style {self.style.value} {self.args.value}".strip()
        return RequestParams(args=args, input_files=inputs, **extra)

    def _check_numbers(self) -> None:
        """Trust, volume and max prices against the book's live orders (RequestRefused)."""
        sb = self.sb
        trust, volume = self.trust.value, self.volume.value
        if trust < 1:
            raise RequestRefused(
                f"Trust {trust} asks for no agreement at all: give trust 1 or more (1 accepts the "
                "first answer; 5 needs about 3 agreeing workers)."
            )
        apps = [x for x in sb.book.list("app", app=sb.app_address).entries if x.remaining > 0]
        pools = [x for x in sb.book.list("workerpool", min_trust=trust).entries if x.remaining > 0]
        if not apps or not pools:
            raise RequestRefused(
                f"The book has no live {'app' if not apps else 'workerpool'} order"
                f"{'' if apps else f' for trust {trust}'}: nobody sells this yet."
            )
        app_price = min(x.price for x in apps)
        pool_price = min(x.price for x in pools)
        if round(self.app_max.value * RLC) < app_price:
            raise RequestRefused(
                f"Your app max price {self.app_max.value:g} RLC is below the cheapest app "
                f"order's price {app_price / RLC:g} RLC: raise it to at least that."
            )
        if round(self.pool_max.value * RLC) < pool_price:
            raise RequestRefused(
                f"Your workerpool max price {self.pool_max.value:g} RLC is below the cheapest "
                f"workerpool order's price {pool_price / RLC:g} RLC (trust {trust}): raise it."
            )
        left = min(max(x.remaining for x in apps), max(x.remaining for x in pools))
        if volume > left:
            raise RequestRefused(
                f"Volume {volume} is more than the orders have left ({left} task(s)): buy "
                f"{left} or fewer."
            )

    def quote(self):
        """The price check: the orders the book picks for these fields, before anything is
        signed; raises RequestRefused with a sentence when a field is wrong. Returns the
        :class:`~iexec_kit.actors.requester.Quote` and the image's URL."""
        from iexec_kit.actors.requester import quote_execution

        self._check_numbers()
        url = self._check_image(self.image.value.strip())
        sb = self.sb
        q = quote_execution(
            sb.hub,
            sb.book,
            sb.requester,
            sb.app_address,
            params=self.params(url),
            volume=self.volume.value,
            trust=self.trust.value,
            app_max_price=round(self.app_max.value * RLC),
            workerpool_max_price=round(self.pool_max.value * RLC),
            rng=self.rng,
        )
        stake = sb.hub.account(sb.requester.address).stake
        rows = [
            ["app order", f"{addr(q.match.app.hash)} at {q.match.app.price / RLC:g} RLC"],
            [
                "workerpool order",
                f"{addr(q.match.workerpool.hash)} at {q.match.workerpool.price / RLC:g} RLC",
            ],
            ["tasks", str(q.volume)],
            ["total to lock", f"{q.total / RLC:g} RLC"],
            [
                "requester's free stake",
                f"{stake / RLC:g} RLC {'✔ enough' if stake >= q.total else '✘ not enough'}",
            ],
        ]
        self.quote_view.value = "<b>Price check</b>" + table(["", ""], rows)
        return q, url

    def buy(self):
        """Check the fields, show the price check, then sign the request order and match it with
        the book's best orders: the deal. A second press shows the deal already bought."""
        if self.match is not None:
            self.message.value = (
                f"<div class='iexec-problem'>You already bought deal {addr(self.match.dealid)}; "
                "pressing Buy again buys nothing. Press 'New request' to buy another.</div>"
            )
            return self.match
        if not self._busy.acquire(blocking=False):
            self.message.value = "<div class='iexec-problem'>A purchase is under way.</div>"
            return None
        try:
            return self._buy()
        finally:
            self._busy.release()

    def _buy(self):
        sb = self.sb
        self.message.value = self.quote_view.value = self.deal.value = ""
        try:
            q, url = self.quote()
        except RequestRefused as why:
            return self._refuse(str(why))
        q.check_funds(sb.hub, name=sb.requester.name)  # a kit error: shown in the output
        app_order, dataset_order, pool_order = q.match.orders()
        request = sb.hub.sign_order(q.request, sb.requester)
        match = sb.hub.match_orders(
            app_order, dataset_order, pool_order, request, sender=sb.requester
        )
        self.match = match
        self.deal.value = (
            f"deal <code class='iexec-deal-id'>{e(match.dealid)}</code>: {match.volume} task(s) "
            f"at {match.deal.price_per_task / RLC:g} RLC, gas {match.receipt.gas_used:,}"
        )
        self.say(f"matchOrders made deal {match.dealid}")
        if self.save_choices:
            self.saved_to = self.choices(url).save(
                None if self.save_choices is True else self.save_choices
            )
            self.say(f"your choices are saved for the next notebooks ({self.saved_to})")
        return match

    def choices(self, url: str):
        """The learner's choices for this request (:class:`iexec_kit.tutorial.choices.Choices`):
        the image as a file or URL that a fresh sandbox can use again."""
        from iexec_kit.tutorial.choices import Choices

        image = self.image.value.strip()
        source = self._sources.get(url, self._sources.get(image, image))
        if source and source.startswith(("/ipfs/", "ipfs://")):
            source = None  # on this sandbox's IPFS only: the next notebooks use the sample
        words = self.args.value.split()
        engine = words[words.index("--engine") + 1] if "--engine" in words[:-1] else None
        extra = self.storage.params() if self.storage is not None else {}
        return Choices(
            input=source,
            style=self.style.value,
            engine=engine,
            trust=self.trust.value,
            volume=self.volume.value,
            storage="private" if extra.get("storage_provider") == "dropbox" else "ipfs",
            encrypt=bool(extra.get("encryption", False)),
        )

    def reset(self) -> None:
        """Start a new request (the next Buy makes a new deal)."""
        self.match = None
        self.message.value = self.quote_view.value = self.deal.value = ""


__all__ = ["RequestBuilder", "RequestRefused", "STYLES"]
