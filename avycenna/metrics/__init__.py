"""`GET /metrics` for Prometheus: the instruments of `avycenna.instruments` and the gauges
`collectors` reads when it is scraped; `views` serves them to admins."""
