"""Webhook handlers. Each is `def on_x(event: Event, ctx: Context) -> None`, routed by `bot.routes`."""
