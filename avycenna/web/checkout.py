"""The checkout page an agent sends a person to (`checkout_url`)."""
