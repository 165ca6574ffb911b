"""The upgrade of an existing deployment's database, end to end.

`conversations.0016_partition_the_journal` turns the events table into a partitioned one
in place (ADR 0009, docs/operations.md); `numbers.0002_from_settings` turns the single
Twilio account of the settings into rows; `email.0002` reads each mail's original MIME
file into its row (ADR 0010). Here a scratch database is migrated to the last
state before them, filled through the project's own verbs, then upgraded by `manage.py
migrate` in another process, exactly as a deploy runs it, and read back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg import sql

from tests import database_reuse
from tests.conftest import subprocess_env

pytestmark = pytest.mark.long  # a deployment migrated in other processes: first (conftest)

# Every app's last migration before the journal was partitioned and numbers became rows
# (the main branch at f9ab56d): the state an existing deployment is upgraded from. Fixed
# names, not today's leaves, so a later migration that depends on 0016 cannot pull the
# "before" state forward.
BEFORE = [
    ("admin", None),  # third-party apps: all their migrations (None: the app's leaf)
    ("auth", None),
    ("contenttypes", None),
    ("sessions", None),
    ("axes", None),
    ("otp_totp", None),
    ("conversations", "0015_email_channel"),
    ("api", "0001_initial"),
    ("commerce", "0001_initial"),
    ("email", "0001_initial"),
    ("engagement", "0003_watch_plural"),
    ("insights", "0002_case_index"),
    ("instore", "0002_scan_consent_box"),
    ("privacy", "0003_consent_ledger_and_suppression"),
    ("routing", "0001_initial"),
    ("webchat", "0001_initial"),
]

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "upgrade-token-" + "9f3c" * 6  # made up: the test hunts for it in the rows
SHOP_NUMBER = "+14155550100"
STORE_PHONE = "+14155550177"
# as a person types it in the store admin: the upgrade stores it as Twilio writes `To`
STORE_PHONE_AS_WRITTEN = "+1 (415) 555-0177"
CUSTOMER_PHONE = "+14155550132"
SMS_SID = "SM" + "a" * 32
CALL_SID = "CA" + "b" * 32
PARTITION_SIZE = 10  # ids per partition: the appends after the upgrade cross a bound
FRESH = 12  # messages appended after the upgrade
# An inbound mail's original MIME, a file in storage before the upgrade, in its row after.
MIME = b"Message-ID: <upgrade@mail.example>\r\nSubject: Hi\r\n\r\nThe blue one, please.\r\n"
MEDIA_ROOT = Path(tempfile.gettempdir()) / f"throughline-upgrade-media-{os.getpid()}"
MIME_FILE = "email/original/2026/12/upgrade.eml"

# One process migrating to BEFORE with the project's own `migrate` command.
MIGRATE_BEFORE = """
import json, sys
import django
django.setup()
from django.core.management import call_command
for app, name in json.loads(sys.argv[1]):
    call_command("migrate", app, *([name] if name else []), verbosity=0, interactive=False)
"""

# A live deployment's rows, written by today's code through its own verbs.
WRITE_ROWS = f"""
import json
import django
django.setup()
from django.contrib.auth import get_user_model
from commerce.models import Cart
from console.notes import add_note
from conversations import journal, outbox
from conversations.identities import link_identity
from conversations.models import Identity, Outbox
from instore.models import Store

agent = get_user_model().objects.create_user("upgrade-agent", is_staff=True)
Store.objects.create(name="Downtown", phone="{STORE_PHONE_AS_WRITTEN}")
inbound = journal.record(identity=("phone", "{CUSTOMER_PHONE}"), channel="sms", kind="message",
    direction="in", body="Do you have it in blue?", source_id="{SMS_SID}")
customer = inbound.conversation.customer
customer = link_identity(customer, "email", "pat@example.com", verified=True)
note = add_note(customer=customer, author=agent, body="Wants the blue one")
reply = outbox.send(customer=customer, channel="sms", body="Yes, in blue.", author=agent)
call = journal.record(customer=customer, channel="voice", kind="call", direction="in",
    source_id="{CALL_SID}", data={{"duration": 42}})
cart = Cart.objects.create(customer=customer, snapshot_event=inbound)
# A mail as the code of the time stored it: its MIME a file (the `upgrading` fixture
# writes it), named by the row.
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute(
        '''INSERT INTO email_mail (direction, message_id, address, subject, in_reply_to,
            "references", original, created_at, event_id)
        VALUES ('in', 'upgrade@mail.example', 'pat@example.com', 'Hi', '', '[]', %s, now(), %s)
        RETURNING id''',
        ["{MIME_FILE}", inbound.pk],
    )
    mail = cursor.fetchone()[0]
print(json.dumps({{
    "inbound": inbound.pk, "note": note.pk, "reply": reply.pk, "call": call.pk,
    "cart": cart.pk, "agent": agent.pk, "customer": customer.pk, "mail": mail,
    "outbox": Outbox.objects.get(event=reply).pk,
    "identities": Identity.objects.filter(customer=customer).count(),
}}))
"""  # noqa: S608 (a script the test runs; its one SQL statement takes parameters)

# After the upgrade: a repeated delivery, then new messages through the journal, enough
# of them to run past the first partition's bound (the test sets a small partition size).
APPEND_AFTER = f"""
import json
import django
django.setup()
from conversations import journal
from conversations.models import EventSource
repeat = journal.record(identity=("phone", "{CUSTOMER_PHONE}"), channel="sms", kind="message",
    direction="in", body="Do you have it in blue?", source_id="{SMS_SID}")
fresh = [
    journal.record(identity=("phone", "{CUSTOMER_PHONE}"), channel="sms", kind="message",
        direction="in", body=f"and one more thing ({{n}})", source_id=f"SM{{n:032d}}")
    for n in range({FRESH})
]
print(json.dumps({{
    "repeat": repeat.pk,
    "fresh": [[e.pk, e.seq, e.conversation_id, e.source_id] for e in fresh],
    "keys": dict(EventSource.objects.filter(source_id__in=[e.source_id for e in fresh])
        .values_list("source_id", "event_id")),
}}))
"""


# A shop that stays open during the deploy: inbound texts from another customer, appended
# one after another by the code of the time, until told to stop.
LIVE_PHONE = "+14155550199"
LIVE_APPENDS = f"""
import json, os, sys, time
import django
django.setup()
from conversations import journal
stop, ids = sys.argv[1], []
while not os.path.exists(stop):
    event = journal.record(identity=("phone", "{LIVE_PHONE}"), channel="sms", kind="message",
        direction="in", body="are you open?", source_id=f"SMlive{{len(ids):026d}}")
    ids.append(event.pk)
    if len(ids) == 1:
        print("appending", flush=True)
    time.sleep(0.02)  # a busy shop, not a benchmark
print(json.dumps(ids), flush=True)
"""


def _server() -> dict:
    db = settings.DATABASES["default"]
    params = {"user": db["USER"], "dbname": "postgres", "autocommit": True}
    if host := db["OPTIONS"].get("host") or db["HOST"]:
        params["host"] = host
    if db.get("PORT"):
        params["port"] = int(db["PORT"])
    if db.get("PASSWORD"):
        params["password"] = db["PASSWORD"]
    return params


@contextlib.contextmanager
def _database(template: str | None = None, name: str | None = None, keep: bool = False):
    """A database of its own on the server DATABASE_URL names (a copy of `template`, or
    empty), dropped at the end unless `keep`: (name, its URL, an autocommit connection
    to it)."""
    name = name or f"upgrade_{uuid.uuid4().hex[:12]}"
    server = _server()
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(**server) as admin:
        admin.execute(create)
    try:
        host = server.get("host", "")
        where = (
            f"@/{name}?host={host}"
            if host.startswith("/")
            else f"@{host}:{server.get('port', 5432)}/{name}"
        )
        # autocommit: an idle transaction here would hold a lock the migration's swap waits for
        with psycopg.connect(**{**server, "dbname": name}) as conn:
            yield name, f"postgres://{server['user']}{where}", conn
    except BaseException:
        keep = False  # half built: not kept
        raise
    finally:
        if not keep:
            with psycopg.connect(**server) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def _env(url: str, **extra: str) -> dict:
    """A deployment's environment: the single Twilio account of the settings."""
    env = subprocess_env(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER=SHOP_NUMBER,
        LOG_LEVEL="WARNING",
        MEDIA_ROOT=str(MEDIA_ROOT),
        **extra,
    )
    for unset in ("TWILIO_MESSAGING_SERVICE_SID", "VOICE_FROM_NUMBER", "DATABASE_POOL"):
        env.pop(unset, None)
    if password := settings.DATABASES["default"].get("PASSWORD"):
        env["PGPASSWORD"] = password  # the URL carries no password
    return env


TEMPLATE_LABEL = "throughline upgrade template "


def _template_fingerprint() -> str:
    """Everything the template is made of: every app's migrations (BEFORE's state), the
    project's code that writes its rows (WRITE_ROWS), this file, and the locked packages."""
    digest = hashlib.sha256(database_reuse.migrations_fingerprint().encode())
    base = Path(settings.BASE_DIR)
    paths = [Path(__file__), base / "requirements" / "lock.txt"]
    for folder, subfolders, files in os.walk(base):  # symlinks (.venv) not followed
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED and not d.startswith("."))
        paths += [Path(folder, name) for name in sorted(files) if name.endswith(".py")]
    for path in paths:
        if path.exists():
            digest.update(f"{path.relative_to(base)}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


SKIPPED = {"tests", "bench", "docs", "__pycache__", "node_modules", "build", "dist"}


def _template_label(admin, name: str) -> str:
    """The template's label, "" when it has none or does not exist."""
    row = admin.execute(
        "SELECT coalesce(shobj_description(oid, 'pg_database'), '') "
        "FROM pg_database WHERE datname = %s",
        [name],
    ).fetchone()
    return row[0] if row else ""


@pytest.fixture(scope="module")
def deployment(request, django_db_modify_db_settings):
    """A database at the last state before the upgrade, holding a deployment's rows
    written by the project's own verbs: the template each test upgrades a copy of.

    Building it (a migrate to BEFORE and the rows, in other processes) costs a core
    about fifteen seconds, so it is kept between runs, like the test databases
    (tests/database_reuse.py): labelled with a fingerprint of everything it is made of
    (`_template_fingerprint`), and rebuilt when that changed, when it has no label (its
    building was interrupted), or with `--create-db`. Each test upgrades a copy; the
    template itself is never migrated past BEFORE."""
    # named after this worker's test database (its name is settled by the fixture):
    # no other worker or checkout builds the same one
    name = f"{connection.creation._get_test_db_name()}_upgrade_from"[:63]
    label_prefix = f"{TEMPLATE_LABEL}{_template_fingerprint()} "
    server = _server()
    with psycopg.connect(**server) as admin:
        label = _template_label(admin, name)
        kept = label.startswith(label_prefix) and not request.config.getvalue("create_db")
        if not kept:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    if kept:
        yield name, json.loads(label.removeprefix(label_prefix))
        return
    with _database(name=name, keep=True) as (_name, url, conn):
        env = _env(url)
        _ok(_run(env, "-c", MIGRATE_BEFORE, json.dumps(BEFORE)))
        relkind = "SELECT relkind FROM pg_class WHERE oid = 'conversations_event'::regclass"
        assert _one(conn, relkind) == "r"
        assert _one(conn, "SELECT to_regclass('numbers_twilioaccount')") is None
        ids = _json(_run(env, "-c", WRITE_ROWS))
        conn.close()  # a template database takes no connections while it is copied
    with psycopg.connect(**server) as admin:
        # labelled last: a build that stopped half way has no label, and is built again
        admin.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(label_prefix + json.dumps(ids))
            )
        )
    yield name, ids


@pytest.fixture
def upgrading(deployment):
    """A copy of the deployment's database, for one test to upgrade."""
    template, ids = deployment
    stored = MEDIA_ROOT / MIME_FILE  # the mail's file, as its storage held it
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(MIME)
    try:
        with _database(template) as (_name, url, conn):
            yield url, conn, ids
    finally:
        shutil.rmtree(MEDIA_ROOT, ignore_errors=True)


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    # Our own interpreter running our own manage.py or script: no outside input.
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _json(done: subprocess.CompletedProcess) -> dict:
    return json.loads(_ok(done).strip().splitlines()[-1])


def _all(conn, query: str, params=None) -> list[tuple]:
    return conn.execute(query, params).fetchall()


def _one(conn, query: str, params=None):
    return conn.execute(query, params).fetchone()[0]


def _events(conn) -> list[dict]:
    return [
        row for (row,) in _all(conn, "SELECT to_jsonb(e) FROM conversations_event e ORDER BY id")
    ]


def _columns(conn) -> list[tuple]:
    return _all(
        conn,
        """SELECT attname, format_type(atttypid, atttypmod), attnotnull
        FROM pg_attribute WHERE attrelid = 'conversations_event'::regclass
            AND attnum > 0 AND NOT attisdropped ORDER BY attnum""",
    )


def _foreign_keys_to_events(conn) -> dict[tuple[str, str], tuple]:
    """Every top-level foreign key that references the events: (table, name) -> where."""
    rows = _all(
        conn,
        """SELECT conrelid::regclass::text, conname, confrelid::regclass::text, convalidated,
            pg_get_constraintdef(oid)
        FROM pg_constraint WHERE contype = 'f' AND conparentid = 0
            AND confrelid IN (
                SELECT oid FROM pg_class WHERE relname LIKE 'conversations_event%%'
            )""",
    )
    return {
        (table, name): (target, valid, definition)
        for table, name, target, valid, definition in rows
    }


def _text_columns(conn, prefix: str) -> list[tuple[str, str]]:
    return _all(
        conn,
        """SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name LIKE %s
            AND data_type IN ('text', 'character varying', 'json', 'jsonb')""",
        [prefix + "%"],
    )


def test_an_existing_deployment_upgrades_to_a_partitioned_journal_and_numbers_as_rows(
    upgrading,
):
    url, conn, ids = upgrading
    env = _env(url, THROUGHLINE_JOURNAL_PARTITION_SIZE=str(PARTITION_SIZE))

    # 1. and 2.: the last state before the upgrade, a deployment's rows (the fixture).
    before_rows = _events(conn)
    before_columns = _columns(conn)
    before_keys = _foreign_keys_to_events(conn)
    assert {ids["inbound"], ids["note"], ids["reply"], ids["call"]} <= {
        r["id"] for r in before_rows
    }
    assert {table for table, _name in before_keys} >= {"conversations_outbox", "commerce_cart"}
    assert all(target == "conversations_event" for target, _v, _d in before_keys.values())

    # 3. The upgrade, as a deploy runs it.
    _ok(_run(env, "manage.py", "migrate", "--no-input"))

    # The mail's MIME, a file before, is in its row.
    assert bytes(_one(conn, "SELECT original FROM email_mail WHERE id = %s", [ids["mail"]])) == MIME

    # Every event is there, unchanged, in the first partition; the columns are the same.
    assert _events(conn) == before_rows
    assert _columns(conn) == before_columns
    assert _one(conn, "SELECT count(*) FROM ONLY conversations_event_p0") == len(before_rows)
    by_id = {row["id"]: row for row in before_rows}
    assert by_id[ids["note"]]["author_id"] == ids["agent"]
    assert by_id[ids["call"]]["source_id"] == CALL_SID

    # Partitioned, with the old table as its first partition, the next one and a default.
    assert (
        _one(conn, "SELECT relkind FROM pg_class WHERE oid = 'conversations_event'::regclass")
        == "p"
    )
    partitions = dict(
        _all(
            conn,
            """SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'conversations_event'::regclass""",
        )
    )
    assert partitions["conversations_event_default"] == "DEFAULT"
    assert partitions["conversations_event_p0"].startswith("FOR VALUES FROM (MINVALUE) TO (")
    bound = partitions["conversations_event_p0"].split("TO (")[1].strip("')")
    assert partitions[f"conversations_event_p{bound}"].startswith(f"FOR VALUES FROM ('{bound}')")
    assert int(bound) > max(row["id"] for row in before_rows)
    # The parent has the model's indexes (the old table's adopted, none lost on the way).
    assert set(
        _all(conn, "SELECT indexname FROM pg_indexes WHERE tablename = 'conversations_event'")
    ) >= {
        (index,)
        for index in (
            "conversations_event_pkey",
            "event_author_idx",
            "event_conversation_seq_idx",
            "event_channel_source_id_idx",
            "privacy_event_retention_idx",
        )
    }

    # The foreign keys that pointed at the old table point at the partitioned parent, valid.
    after_keys = _foreign_keys_to_events(conn)
    assert set(after_keys) == set(before_keys)
    for key, (target, valid, definition) in after_keys.items():
        assert (target, valid) == ("conversations_event", True), key
        assert definition == before_keys[key][2], key  # same columns, same ON DELETE
    assert (
        _one(conn, "SELECT event_id FROM conversations_outbox WHERE id = %s", [ids["outbox"]])
        == ids["reply"]
    )
    assert (
        _one(conn, "SELECT snapshot_event_id FROM commerce_cart WHERE id = %s", [ids["cart"]])
        == ids["inbound"]
    )
    with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
        conn.execute("DELETE FROM conversations_event WHERE id = %s", [ids["reply"]])  # PROTECT

    # The global key (channel, source_id) holds every sourced event and still refuses a repeat.
    assert set(
        _all(conn, "SELECT channel, source_id, event_id FROM conversations_eventsource")
    ) == {(r["channel"], r["source_id"], r["id"]) for r in before_rows if r["source_id"]}
    with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
        conn.execute(
            """INSERT INTO conversations_event (conversation_id, seq, channel, direction, kind,
                body, data, occurred_at, recorded_at, source_id, delivery_status)
            SELECT conversation_id, 999, channel, direction, kind, body, data, occurred_at,
                recorded_at, source_id, delivery_status FROM conversations_event WHERE id = %s""",
            [ids["inbound"]],
        )
    # The partition upkeep works on the converted table (its first range from MINVALUE).
    upkeep = _ok(_run(env, "manage.py", "journal_partitions"))
    assert f"conversations_event_p0: ids min to {int(bound) - 1}" in upkeep

    appended = _json(_run(env, "-c", APPEND_AFTER))
    assert appended["repeat"] == ids["inbound"]
    assert (
        _one(conn, "SELECT count(*) FROM conversations_event WHERE source_id = %s", [SMS_SID]) == 1
    )
    # New events append after the old ones, in the conversation's next seqs, each keyed,
    # on both sides of the first partition's bound.
    fresh_ids = [event_id for event_id, _seq, _conversation, _source in appended["fresh"]]
    assert fresh_ids == sorted(fresh_ids)
    assert fresh_ids[0] > max(by_id)
    conversation = by_id[ids["inbound"]]["conversation_id"]
    old_seqs = [r["seq"] for r in before_rows if r["conversation_id"] == conversation]
    assert [(seq, c) for _id, seq, c, _source in appended["fresh"]] == [
        (max(old_seqs) + n, conversation) for n in range(1, FRESH + 1)
    ]
    assert appended["keys"] == {source: event_id for event_id, _s, _c, source in appended["fresh"]}
    homes = _all(
        conn,
        "SELECT DISTINCT tableoid::regclass::text FROM conversations_event WHERE id = ANY(%s)",
        [fresh_ids],
    )
    assert ("conversations_event_p0",) in homes
    assert (f"conversations_event_p{bound}",) in homes
    assert _one(conn, "SELECT count(*) FROM conversations_event") == len(before_rows) + FRESH
    # A repeat of an event of the new partition is refused as well: the key is global.
    with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
        conn.execute(
            """INSERT INTO conversations_event (conversation_id, seq, channel, direction, kind,
                body, data, occurred_at, recorded_at, source_id, delivery_status)
            SELECT conversation_id, 999, channel, direction, kind, body, data, occurred_at,
                recorded_at, source_id, delivery_status FROM conversations_event WHERE id = %s""",
            [fresh_ids[-1]],
        )

    # numbers.0002: the account of the settings is a row whose token is a reference.
    accounts = _all(
        conn, "SELECT id, account_sid, auth_token_env, auth_token_key FROM numbers_twilioaccount"
    )
    assert [row[1:] for row in accounts] == [(ACCOUNT_SID, "TWILIO_AUTH_TOKEN", "")]
    numbers = _all(
        conn,
        """SELECT phone_number, is_default, store_id IS NOT NULL FROM numbers_messagingnumber
        WHERE account_id = %s ORDER BY phone_number""",
        [accounts[0][0]],
    )
    assert numbers == [(SHOP_NUMBER, True, False), (STORE_PHONE, False, True)]
    text_columns = _text_columns(conn, "numbers_")
    assert ("numbers_twilioaccount", "auth_token_env") in text_columns
    for table, column in text_columns:
        query = sql.SQL("SELECT count(*) FROM {} WHERE {}::text LIKE %s").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        assert _one(conn, query, [f"%{AUTH_TOKEN}%"]) == 0, (table, column)

    # 4. Backwards. numbers.0002 reverses: it removes only its own rows, and runs again.
    _ok(_run(env, "manage.py", "migrate", "numbers", "0001_initial", "--no-input"))
    assert _one(conn, "SELECT count(*) FROM numbers_twilioaccount") == 0
    assert _one(conn, "SELECT count(*) FROM numbers_messagingnumber") == 0
    _ok(_run(env, "manage.py", "migrate", "numbers", "--no-input"))
    assert _one(conn, "SELECT auth_token_env FROM numbers_twilioaccount") == "TWILIO_AUTH_TOKEN"

    # conversations.0016 declares no reverse (its docstring: "Not reversible"): going back
    # is refused before anything is undone, and the journal stays as it is.
    refused = _run(env, "manage.py", "migrate", "conversations", "0015_email_channel", "--no-input")
    assert refused.returncode != 0
    assert "IrreversibleError" in refused.stderr
    assert "0016_partition_the_journal" in refused.stderr
    assert (
        _one(conn, "SELECT relkind FROM pg_class WHERE oid = 'conversations_event'::regclass")
        == "p"
    )
    assert _one(conn, "SELECT count(*) FROM conversations_event") == len(before_rows) + FRESH
    assert (
        _one(
            conn,
            "SELECT count(*) FROM django_migrations WHERE app = 'conversations' AND name = %s",
            ["0016_partition_the_journal"],
        )
        == 1
    )


def _live_count(conn) -> int:
    return _one(conn, "SELECT count(*) FROM conversations_event WHERE source_id LIKE 'SMlive%%'")


def test_the_upgrade_runs_while_the_shop_appends(upgrading, tmp_path):
    """docs/operations.md: the migration may run while the shop is live. Every append made
    before, during and after the swap lands once, keyed, in gap-free seqs; none fails."""
    url, conn, _ids = upgrading
    env = _env(url)
    before_rows = _events(conn)
    stop = tmp_path / "stop"
    appender = subprocess.Popen(  # our own interpreter and script: no outside input
        [sys.executable, "-c", LIVE_APPENDS, str(stop)],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert appender.stdout.readline().strip() == "appending"
        _ok(_run(env, "manage.py", "migrate", "--no-input"))
        # The shop goes on after the swap: wait for a few more appends (the limit is only
        # how long a failing run waits, not a speed asserted).
        swapped = _live_count(conn)
        for _ in range(600):
            if _live_count(conn) >= swapped + 3 or appender.poll() is not None:
                break
            time.sleep(0.1)
    finally:
        stop.touch()
        out, err = appender.communicate(timeout=120)
    assert appender.returncode == 0, err[-3000:]
    live = json.loads(out.strip().splitlines()[-1])
    assert len(live) >= swapped + 3

    assert (
        _one(conn, "SELECT relkind FROM pg_class WHERE oid = 'conversations_event'::regclass")
        == "p"
    )
    # What was there is unchanged; every live append is there once, with its key.
    after = {row["id"]: row for row in _events(conn)}
    assert [after[row["id"]] for row in before_rows] == before_rows
    rows = _all(
        conn,
        """SELECT id, seq, conversation_id FROM conversations_event
        WHERE source_id LIKE 'SMlive%%' ORDER BY id""",
    )
    assert [event_id for event_id, _seq, _c in rows] == live
    assert len({conversation for _id, _seq, conversation in rows}) == 1
    assert [seq for _id, seq, _c in rows] == list(range(rows[0][1], rows[0][1] + len(live)))
    keys = dict(
        _all(
            conn,
            """SELECT source_id, event_id FROM conversations_eventsource
            WHERE source_id LIKE 'SMlive%%'""",
        )
    )
    assert keys == {f"SMlive{n:026d}": event_id for n, event_id in enumerate(live)}
    # Every foreign key to the events is back on the parent and validated.
    for key, (target, valid, _definition) in _foreign_keys_to_events(conn).items():
        assert (target, valid) == ("conversations_event", True), key
