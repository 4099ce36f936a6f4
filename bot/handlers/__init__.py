"""Webhook handlers. Each is `def on_x(event: Event, ctx: Context) -> None`, registered on its module's
`router` with `@router.register(event, action=...)`; `bot.routes` merges the modules' routers."""
