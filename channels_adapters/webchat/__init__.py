"""The web-chat widget: /widget.js, the shopper socket /ws/widget/, the demo shop.

- `inbound.py`: shopper messages, the "Stop messages" button and tracked events into
  the journal (the socket and the HTTP endpoints parse; these verbs record);
- `outbound.py`: `reply_on_web`, the reply verb for `web`;
- `status.py`: the widget's `delivered` / `read` marks on our messages;
- `backends.py`: the transport: the Channels groups each socket joins (no provider);
- `urls.py`: the script and the widget's JSON endpoints; `ws_routes.py`: the socket
  route; `apps.py`: the app and what it plugs in;
- `consumers.py`: the shopper socket; `views.py`: the script, the JSON endpoints and the
  demo pages; `history.py`: what a shopper may see, and resuming; `identify.py`:
  signed-in shoppers; `phone.py`: "Continue by SMS"; `offers.py`: in-the-moment offers;
  `origins.py`: which pages may use a site; `throttle.py`: the per-socket flood limit;
  `models.py` / `admin.py`: sites and phone codes; `demo.py`: the demo shop;
  `sweeps.py`, `tasks.py`, `management/`: what anonymous visitors leave behind.
"""
