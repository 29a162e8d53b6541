"""Opt-in reminders (DESIGN.md section 10): before each upcoming meeting a user organises, the client link in their
1:1 chat, at most once across any number of instances.

`schedule` is the pure part (what is due, given a clock, a subscription and the meetings); `records` the stored
shapes; `store`/`blob_store` the memory and Blob stores with the per-occurrence claim and the poller lease;
`scheduler` the polling loop run by whichever instance holds the lease; `clock` the injectable time source;
`announce` what a check reads (the `get link` choices) and sends (the result card); `proactive` the token service
and the 1:1 chat outside a turn; `control` what the commands change; `setup` the assembly for `create_app`.
"""
