"""Mail: texts of invitations and reminders (compose), delivery with retries (sender), status."""
