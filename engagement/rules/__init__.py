"""The rules: small classes with one interface, registered by slug (docs/engagement.md).

A rule watches something (watches.py) or is called by the adapter that sees its trigger,
and only ever *proposes* (arbiter.propose). Each has a `RuleConfig` row the admin edits:
enabled, priority, channel preference, threshold, and its steps (delay and message
template); the row is created with the rule's defaults the first time it is read.

Interface: `slug`, `topic`, `responsive` (it answers the customer's own contact, so quiet
hours, caps and a hot case do not hold it back), `worth_sending` (how long after it is due
its message still makes sense: a decision or a send attempt later than that drops it as
expired), `defaults`, and for watching rules
`advance(watch, config, now)`, which the sweep calls when the watch is due: it proposes
the next step and sets `watch.next_action_at` (or closes the watch).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.template import TemplateSyntaxError

from conversations.models import Customer

from .. import arbiter, templating
from ..models import Nudge, RuleConfig, RuleStep, Watch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Defaults:
    priority: int
    channels: str = "sms,web"
    min_value: Decimal | None = None
    params: dict = field(default_factory=dict)
    steps: tuple[tuple[int, str], ...] = ()  # (delay in minutes, template)


class Rule:
    slug: str = ""
    topic: str = ""
    responsive: bool = False
    worth_sending: timedelta = timedelta(hours=48)
    defaults: Defaults

    def config(self) -> RuleConfig:
        """This rule's settings, created from `defaults` on first use."""
        config = RuleConfig.objects.filter(slug=self.slug).first()
        if config is None:
            try:
                with transaction.atomic():
                    config = RuleConfig.objects.create(
                        slug=self.slug,
                        priority=self.defaults.priority,
                        channels=self.defaults.channels,
                        min_value=self.defaults.min_value,
                        params=dict(self.defaults.params),
                    )
                    RuleStep.objects.bulk_create(
                        RuleStep(rule=config, number=n, delay_minutes=delay, template=template)
                        for n, (delay, template) in enumerate(self.defaults.steps, start=1)
                    )
            except IntegrityError:
                config = RuleConfig.objects.get(slug=self.slug)  # made meanwhile
        return config

    def steps(self, config: RuleConfig) -> list[RuleStep]:
        """The steps in order, read once per config object (a sweep reuses its configs)."""
        if not hasattr(config, "_ordered_steps"):
            config._ordered_steps = list(config.steps.order_by("number"))
        return config._ordered_steps

    def param(self, config: RuleConfig, name: str):
        return config.params.get(name, self.defaults.params.get(name))

    def advance(self, watch: Watch, config: RuleConfig, now: datetime) -> None:
        raise NotImplementedError(f"{self.slug} does not watch anything")

    def propose_step(
        self,
        config: RuleConfig,
        customer: Customer,
        *,
        step: int,
        dedupe_key: str,
        context: dict | None = None,
        data: dict | None = None,
        due_at: datetime | None = None,
        channels: tuple[str, ...] | None = None,
        template: str | None = None,
    ) -> Nudge | None:
        """Render step `step`'s template (or `template`, a message outside the steps) with
        the customer context and propose it."""
        if template is None:
            steps = {s.number: s for s in self.steps(config)}
            if step not in steps:
                return None
            template = steps[step].template
        try:
            body = templating.render(
                template, templating.message_context(customer, **(context or {}))
            )
        except TemplateSyntaxError:
            # the admin validates templates; a broken one must not stop the sweep
            logger.exception("rule %s step %s: the template does not render", self.slug, step)
            return None
        if not body:
            return None
        return arbiter.propose(
            customer,
            rule=self.slug,
            step=step,
            dedupe_key=dedupe_key,
            topic=self.topic,
            body=body,
            priority=config.priority,
            due_at=due_at,
            channels=channels or config.channel_list(),
            data={**(data or {}), **({"responsive": True} if self.responsive else {})},
            expires_after=self.worth_sending,
        )


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def rules() -> dict[str, Rule]:
    """Every rule by slug (imported here, not at module level: the rules import this)."""
    from .after_hours import RULE as after_hours
    from .cart_abandoned import RULE as cart_abandoned
    from .evaluation_left import RULE as evaluation_left
    from .missed_call import RULE as missed_call
    from .post_purchase import RULE as post_purchase

    return {
        rule.slug: rule
        for rule in (cart_abandoned, evaluation_left, missed_call, after_hours, post_purchase)
    }


def ensure_configs() -> list[RuleConfig]:
    """Every rule's config row, so the admin lists them all before any has run."""
    return [rule.config() for rule in rules().values()]
