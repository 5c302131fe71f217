"""The operations console (issue 12): queue dashboard, job runs, data status, price plans,
ad impressions, batch health and metrics, mounted by portal/app_factory.py."""
