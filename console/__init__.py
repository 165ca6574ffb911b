"""The agent console: what an agent sees and does in the admin (docs/console.md).

Views, the agent socket, the inbox page, the reply box, canned responses, notes,
suggestions, roles and login protection (django-axes). The domain it acts on (customers,
the journal, cases, the outbox) is `conversations/`; the console calls its verbs and never
writes rows itself.
"""
