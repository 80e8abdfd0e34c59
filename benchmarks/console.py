"""Live-queue latency: from an agent's POST to the event on a reviewer's socket.

Starts nothing itself: give it a running server, an agent token, and a reviewer's
e-mail and password (local login). It signs the reviewer in through the login
form, opens /ws/queue with that session, files N actions one after another and
times, for each, the moment the POST returns and the moment the matching
``action.created`` arrives on the socket.

    python benchmarks/console.py --url http://127.0.0.1:18820 --token alk_agt_... \\
        --email carol@example.com --password ... -n 300

benchmarks/console.sh runs it against a production-shaped server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time

import httpx
import websockets


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


def sign_in(url: str, email: str, password: str) -> str:
    with httpx.Client(base_url=url, follow_redirects=False) as client:
        page = client.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if token is None:
            raise SystemExit("no login form")
        response = client.post(
            "/accounts/login/",
            data={"username": email, "password": password, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{url}/accounts/login/"},
        )
        if response.status_code != 302 or "sessionid" not in client.cookies:
            raise SystemExit(f"sign-in failed ({response.status_code})")
        return client.cookies["sessionid"]


async def run(url: str, token: str, session: str, count: int) -> dict:
    ws_url = url.replace("http", "ws", 1) + "/ws/queue"
    headers = {"Cookie": f"sessionid={session}", "Origin": url}
    created: dict[str, float] = {}
    posted: dict[str, float] = {}
    async with (
        websockets.connect(ws_url, additional_headers=headers) as socket,
        httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as http,
    ):

        async def listen() -> None:
            async for raw in socket:
                message = json.loads(raw)
                if message.get("type") == "action.created":
                    created[message["action"]["id"]] = time.perf_counter()

        listener = asyncio.create_task(listen())
        for index in range(count):
            started = time.perf_counter()
            response = await http.post(
                "/api/v1/actions", json={"action": "console.bench", "resource": f"r://{index}"}
            )
            if response.status_code != 201 or response.json()["status"] != "pending":
                raise SystemExit(f"filing failed: {response.status_code} {response.text[:200]}")
            posted[response.json()["id"]] = started
        deadline = time.perf_counter() + 10
        while len(created) < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        listener.cancel()
    latencies = [created[i] - posted[i] for i in posted if i in created]
    return {"filed": count, "received": len(latencies), "latencies": latencies}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True, help="an agent token")
    parser.add_argument("--email", required=True, help="a reviewer in the agent's reviewer group")
    parser.add_argument("--password", required=True)
    parser.add_argument("-n", "--requests", type=int, default=300)
    parser.add_argument(
        "--queue-size", type=int, default=0, help="then time the queue page with this many pending"
    )
    parser.add_argument(
        "--queue-phase",
        choices=("both", "fill", "time"),
        default="both",
        help="fill the queue, time the page, or both (console.sh analyzes the tables between)",
    )
    args = parser.parse_args()

    session = sign_in(args.url, args.email, args.password)
    ok = True
    if args.requests:
        result = asyncio.run(run(args.url, args.token, session, args.requests))
        lat = result["latencies"]
        print(
            f"{result['received']}/{result['filed']} events received; POST start to socket event: "
            f"p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms, max {max(lat) * 1000:.1f} ms"
        )
        ok = result["received"] == result["filed"]
    if args.queue_size:
        queue_page(args.url, args.token, session, args.queue_size, args.queue_phase)
    return 0 if ok else 1


def waiting(browser: httpx.Client) -> int:
    found = re.search(r"(\d+) waiting", browser.get("/").text)
    return int(found.group(1)) if found else 0


ENVIRONMENTS = ("production", "staging", "dev")


def fill_body(index: int) -> dict:
    """A varied queue: three environments, and every third payload with an e-mail
    address and a phone number (screened by the worker, shown as data-class badges)."""
    body: dict = {
        "action": "console.fill",
        "resource": f"postgres://warehouse/table-{index}",
        "environment": ENVIRONMENTS[index % 3],
        "justification": "benchmark fill",
        "context": {"run_id": f"run-{index}", "model": "bench"},
    }
    if index % 3 == 0:
        body["payload"] = {"to": f"person{index}@example.com", "phone": "+1 415 555 0134"}
    return body


def server_ms(response: httpx.Response) -> float:
    found = re.search(r"queue;dur=([\d.]+)", response.headers.get("server-timing", ""))
    if found is None:
        raise SystemExit("the queue page sent no Server-Timing header")
    return float(found.group(1)) / 1000


def queue_page(url: str, token: str, session: str, size: int, phase: str = "both") -> None:
    """Fill the reviewer's queue to ``size`` pending requests, then time the queue page:
    the view's own time (its ``Server-Timing``) and the whole response on loopback,
    unfiltered, filtered, and the live fragment."""
    browser = httpx.Client(base_url=url, cookies={"sessionid": session}, timeout=30)
    with (
        browser,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api,
    ):
        if phase != "time":
            for index in range(max(0, size - waiting(browser))):
                api.post("/api/v1/actions", json=fill_body(index))
            deadline = time.perf_counter() + 300
            while waiting(browser) < size and time.perf_counter() < deadline:
                time.sleep(0.5)  # payloads wait for the screening worker
        pending = waiting(browser)
        if phase == "fill":
            print(f"queue filled: {pending} pending")
            return
        variants = {
            "queue page": "/",
            "filtered (production, e-mail)": "/?environment=production&data_class=EMAIL_ADDRESS",
            "live fragment": "/?fragment=1",
        }
        for label, path in variants.items():
            server, whole = [], []
            for _ in range(5):
                browser.get(path)  # warm-up
            for _ in range(50):
                started = time.perf_counter()
                page = browser.get(path)
                whole.append(time.perf_counter() - started)
                server.append(server_ms(page))
                if page.status_code != 200 or "data-action-id" not in page.text:
                    raise SystemExit(f"queue page failed: {page.status_code}")
            print(
                f"{label} with {pending} pending (50 a page): server p50 {pct(server, 50):.1f} ms, "
                f"p95 {pct(server, 95):.1f} ms; whole response p50 {pct(whole, 50):.1f} ms, "
                f"p95 {pct(whole, 95):.1f} ms over 50 loads"
            )


if __name__ == "__main__":
    sys.exit(main())
