"""`arborist demo`: the whole loop on loopback, from a broken PR to a pulled release that answers.

`story` runs the `steps` in order under one deadline and always cleans up; `world` is what the steps
share; `models` prepares the real teacher and student (or a tiny random one); `stack` starts the
services (GitHub and Hub stand-ins, the bot, a worker); `github_side` seeds the GitHub stand-in and
reads back what the bot did; `webhooks` signs and delivers events; `repo` keeps the local git
repositories; `leaves` is the story's taxonomy content; `procs` manages child processes; `outcome`
reads back what the jobs reported (samples, the gate's verdict); `timeline` and `artefacts` are what
the user reads afterwards.
"""
