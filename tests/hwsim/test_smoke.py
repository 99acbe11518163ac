from tests.support.atport import AtPort


async def test_at_answers_ok_with_echo(port: AtPort) -> None:
    assert await port.command(b"AT\r") == b"AT\r\r\nOK\r\n"
