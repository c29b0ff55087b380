"""Web Push notifications to patients' devices: VAPID keys (`vapid`) and sending one encrypted
message to one browser subscription (`webpush`). Storing subscriptions and deciding whom to notify
belong to the callers."""
