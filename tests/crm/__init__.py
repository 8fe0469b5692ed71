"""Tests of the CRM clients against the fake servers."""
