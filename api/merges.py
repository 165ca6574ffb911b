"""The API's merges (docs/api.md, "Merges"): the shop's systems list a customer's merges
and split one that was wrong. Registered on the one API (views.py), keyed the same way;
the split records the key that asked for it."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from ninja import Path, Query
from pydantic import BaseModel, Field

from commerce.fields import AsciiInt
from commerce.validation import Body
from conversations import merges, splits
from conversations.models import Merge

from . import answers, references
from .errors import ApiError
from .views import COMMON, CustomerId, api


class MergeOut(BaseModel):
    id: int
    survivor: int = Field(description="The customer that kept the conversation.")
    merged: int = Field(description="The customer folded into it (split off again by a split).")
    reason: str
    merged_at: str = Field(json_schema_extra={"format": "date-time"})
    unmerged_at: str | None = Field(None, json_schema_extra={"format": "date-time"})
    unmerged_by: str | None = None


class MergeList(BaseModel):
    customer: int
    merges: list[MergeOut]


class SplitIn(Body):
    """Events recorded on the survivor after the merge that belong to the merged customer."""

    move_events: list[AsciiInt(1, 2**62)] = Field(  # type: ignore[valid-type]
        [], max_length=500, description="Event ids (from the timeline) to move with the split."
    )


def merge_json(merge: Merge) -> dict:
    return {
        "id": merge.pk,
        "survivor": merge.survivor_id,
        "merged": merge.merged_id,
        "reason": merge.reason,
        "merged_at": merge.merged_at.isoformat(),
        "unmerged_at": merge.unmerged_at.isoformat() if merge.unmerged_at else None,
        "unmerged_by": merge.unmerged_by or None,
    }


@api.get(
    "/v1/merges",
    response={200: MergeList, 400: answers.Error, 404: answers.Error, **COMMON},
    operation_id="listMerges",
    summary="The merges that made a customer (and the ones split since), oldest first",
)
def list_merges(
    request: HttpRequest,
    customer: CustomerId = Query(..., description="As in /v1/customers/{id}."),  # noqa: B008
) -> JsonResponse:
    found = references.find_in_path(customer)
    tree = merges.customer_tree(found.pk)
    rows = Merge.objects.filter(survivor_id__in=tree).order_by("pk")
    return JsonResponse({"customer": found.pk, "merges": [merge_json(m) for m in rows]})


@api.post(
    "/v1/merges/{merge_id}/split",
    response={
        200: MergeOut,
        400: answers.Error,
        404: answers.Error,
        415: answers.Error,
        422: answers.Error,
        **COMMON,
    },
    operation_id="splitMerge",
    summary="Undo a merge: the merged customer gets back what was theirs",
    description="Everything the merge moved returns to the customer it came from, events "
    "in their old order; events recorded since stay with the survivor unless listed in "
    "move_events. Safe to retry: a merge already split answers as it is. 422: an event "
    "listed that was not recorded on the survivor after the merge; nothing is changed.",
)
def split_merge(
    request: HttpRequest,
    body: SplitIn,
    merge_id: AsciiInt(1, 2**62) = Path(..., description="From /v1/merges."),  # type: ignore[valid-type]  # noqa: B008
) -> JsonResponse:
    merge = Merge.objects.filter(pk=merge_id).first()
    if merge is None:
        raise ApiError(404, "not_found", f"No merge {merge_id}.")
    by = f"api:{request.auth.prefix}"  # type: ignore[attr-defined]  # set by the auth
    try:
        splits.unmerge(merge, by=by, move_events=body.move_events)
    except merges.NotSplittable as refusal:
        raise ApiError(422, "unprocessable", str(refusal), field="move_events") from None
    merge.refresh_from_db()
    return JsonResponse(merge_json(merge))
