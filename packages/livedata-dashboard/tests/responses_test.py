from ess.livedata.dashboard.responses import EXPIRE_AFTER_S, Outcome, ResponseLedger
from ess.livedata.protocol import Response, ResponseKind


def ack(message_id: str, device: str) -> Response:
    return Response(message_id=message_id, device=device, response=ResponseKind.ACK)


def test_acks_are_counted_against_the_sources_started(clock):
    ledger = ResponseLedger(clock)
    ledger.sent("m", "start monitor_histogram", expected=2)
    ledger.answer(ack("m", "monitor1"))
    ledger.answer(ack("other", "monitor2"))  # another dashboard's command
    assert ledger.get("m").outcome(clock.now) is Outcome.PENDING
    assert ledger.get("m").describe(clock.now).endswith("1/2 acknowledged")
    ledger.answer(ack("m", "monitor2"))
    assert ledger.get("m").outcome(clock.now) is Outcome.ACCEPTED


def test_an_error_rejects_with_its_reason(clock):
    ledger = ResponseLedger(clock)
    ledger.sent("m", "start monitor_histogram", expected=1)
    ledger.answer(
        Response(
            message_id="m",
            device="monitor1",
            response=ResponseKind.ERR,
            message="toa_edges: bad",
        )
    )
    record = ledger.get("m")
    assert record.outcome(clock.now) is Outcome.REJECTED
    assert "monitor1: toa_edges: bad" in record.describe(clock.now)


def test_unanswered_commands_expire_and_late_answers_are_ignored(clock):
    ledger = ResponseLedger(clock)
    ledger.sent("m", "reset monitor_histogram", expected=1)
    clock.now += EXPIRE_AFTER_S + 1
    ledger.answer(ack("m", "monitor1/n"))
    assert ledger.get("m").outcome(clock.now) is Outcome.UNANSWERED
    assert "is the service running?" in ledger.get("m").describe(clock.now)


def test_delivery_failure_is_reported(clock):
    ledger = ResponseLedger(clock)
    ledger.sent("m", "stop monitor_histogram", expected=1)
    ledger.undelivered("m", "broker down")
    assert ledger.get("m").outcome(clock.now) is Outcome.UNDELIVERED
