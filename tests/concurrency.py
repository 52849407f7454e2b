"""Real threads against the database, for the tests of row locks (PostgreSQL only)."""

import threading

from django.db import connection


def race(target, arguments):
    """Run target(arg) for each arg in its own thread, all released at once; returns (results, errors)."""
    barrier = threading.Barrier(len(arguments))
    results, errors = [], []

    def run(arg):
        try:
            barrier.wait()
            results.append(target(arg))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(arg,)) for arg in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is still waiting"
    return results, errors
