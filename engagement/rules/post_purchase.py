"""Post purchase: some days after delivery of a product that needs assembly, an offer of
help with it (by default 3 days). The order's watch waits for its `delivered_at`,
looking again every `recheck_hours` and giving up after `give_up_days`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from commerce.models import Order, Product
from conversations.models import Event

from .. import watches
from ..models import RuleConfig, Watch
from . import Defaults, Rule, minutes

STEP_1 = (
    "{% if first_name %}Hi {{ first_name }}! {% endif %}How is the {{ product }} going? If "
    "you'd like a hand with the assembly, reply here or pick a time for a call: "
    "{{ links.callback }}"
)


class PostPurchase(Rule):
    slug = "post_purchase"
    topic = "service_followups"
    worth_sending = timedelta(hours=72)  # "how is it going?" still fits a few days late
    defaults = Defaults(
        priority=20,
        params={"recheck_hours": 12, "give_up_days": 60},
        steps=((3 * 24 * 60, STEP_1),),
    )

    def on_event(self, event: Event) -> None:
        """An order: watch it when it holds a product flagged as needing assembly."""
        order = Order.objects.filter(external_id=(event.data or {}).get("order_id", "")).first()
        if order is None:
            return
        skus = [item.get("sku") for item in order.items if isinstance(item, dict)]
        names = list(
            Product.objects.filter(sku__in=skus, needs_assembly=True).values_list("name", flat=True)
        )
        config = self.config()
        if not names or not config.enabled:
            return
        watches.arm(
            rule=self.slug,
            subject=f"order:{order.pk}",
            customer=order.customer_id,
            at=order.placed_at + timedelta(hours=int(self.param(config, "recheck_hours"))),
            data={"products": names},
        )

    def advance(self, watch: Watch, config: RuleConfig, now: datetime) -> None:
        order = Order.objects.filter(pk=int(watch.subject.split(":")[1])).first()
        steps = self.steps(config)
        if order is None or not steps:
            return watches.close_watch(watch, "no order")
        if order.delivered_at is None:
            if order.placed_at < now - timedelta(days=int(self.param(config, "give_up_days"))):
                return watches.close_watch(watch, "never delivered")
            watch.next_action_at = now + timedelta(hours=int(self.param(config, "recheck_hours")))
            return None
        due = order.delivered_at + minutes(steps[0].delay_minutes)
        if due > now:
            watch.next_action_at = due
            return None
        self.propose_step(
            config,
            order.customer,
            step=1,
            dedupe_key=f"{self.slug}:order:{order.pk}:1",
            context={"product": watch.data.get("products", [""])[0]},
            data={"order": order.pk},
            due_at=now,
        )
        watch.step = 1
        return watches.close_watch(watch, "sequence done")


RULE = PostPurchase()
