"""A fictional, realistic sample org: users, accounts, 18 months of deals."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

__all__ = ["DemoOrg", "make_demo_org", "wire_datetime"]

STAGES = [
    ("Prospecting", 10),
    ("Qualification", 10),
    ("Needs Analysis", 20),
    ("Value Proposition", 50),
    ("Id. Decision Makers", 60),
    ("Perception Analysis", 70),
    ("Proposal/Price Quote", 75),
    ("Negotiation/Review", 90),
]

ACCOUNT_NAMES = [
    "Aurora Freight Systems",
    "Bluewater Clinics",
    "Cedar & Pine Outfitters",
    "Driftwood Analytics",
    "Emberline Energy",
    "Fjordside Shipping AS",
    "Granite Peak Insurance",
    "Harbourlight Media",
    "Ironbark Construction",
    "Juniper Health Partners",
    "Kestrel Aerospace",
    "Lumen Retail Group",
    "Mistral Logistics",
    "Northwind Cooperative Bank",
    "Orchard Lane Foods",
    "Pelican Bay Hotels",
    "Quarry Stone Supplies",
    "Redfern Legal LLP",
    "Saltmarsh Biotech",
    "Tidewater Utilities",
    "Umber Textiles",
    "Vantage Point Schools",
    "Willowbrook Senior Living",
    "Yellowfin Marine",
    "Zephyr Cloudworks",
    "Łódź Precision Parts Sp. z o.o.",
    "Šumava Glassworks s.r.o.",
    "Müller & Töchter Feinmechanik GmbH",
    "Café Órbita Comércio Ltda.",
    "Ærø Wind Services ApS",
    "Niederrhein Stadtwerke AG",
    "Østfold Fiskeri AS",
    "Société Lumière Numérique SAS",
    "Kōbe Minato Trading K.K.",
    "Città Alta Ceramiche S.r.l.",
    "Peña Roja Agrícola S.L.",
    "Brightwater Credit Union",
    "Copperleaf Software",
    "Duskfall Games",
    "Evergreen Property Management",
]
COUNTRIES = [
    "United States",
    "United States",
    "United States",
    "United Kingdom",
    "Germany",
    "Poland",
    "Czechia",
    "Norway",
    "Brazil",
    "Denmark",
    "France",
    "Japan",
    "Italy",
    "Spain",
    "Canada",
]
INDUSTRIES = [
    "Banking",
    "Healthcare",
    "Retail",
    "Manufacturing",
    "Technology",
    "Transportation",
    "Energy",
    "Insurance",
    "Media",
    "Construction",
    "Education",
]
TYPES = [
    "New Customer",
    "Existing Customer - Upgrade",
    "Existing Customer - Replacement",
]
PRODUCTS = ["Platform", "Analytics", "Expansion", "Renewal", "Pilot"]
SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
USERS = [
    ("Avery", "Chen", "Account Executive"),
    ("Jordan", "Okafor", "Account Executive"),
    ("Sofia", "Lindqvist", "Account Executive"),
    ("Mateo", "García", "Onboarding Manager"),
    ("Priya", "Raman", "Onboarding Manager"),
    ("Zoë", "Kowalczyk", "Onboarding Manager"),
    ("Kwame", "Mensah", "Solutions Engineer"),
    ("Ingrid", "Halvorsen", "Solutions Engineer"),
]


def wire_datetime(value: datetime) -> str:
    """Salesforce's REST form: 2024-01-31T10:00:00.000+0000."""
    value = value.astimezone(UTC)
    return (
        value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
    )


@dataclass
class DemoOrg:
    """Records keyed by a local reference; Ids are given by the org on insert."""

    users: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    opportunities: list[dict[str, Any]] = field(default_factory=list)


def _stamp(day: date, rng: random.Random) -> datetime:
    seconds = rng.randrange(8 * 3600, 19 * 3600)
    return datetime.combine(day, time(0, tzinfo=UTC)) + timedelta(seconds=seconds)


def make_demo_org(*, today: date, seed: int = 7, opportunities: int = 150) -> DemoOrg:
    """Build the sample data set relative to ``today`` (deterministic for a seed)."""
    rng = random.Random(seed)
    org = DemoOrg()
    for i, (first, last, title) in enumerate(USERS):
        org.users.append(
            {
                "_ref": f"user-{i}",
                "FirstName": first,
                "LastName": last,
                "Username": f"{first.lower()}.{i}@sfsync-demo.example",
                "Email": f"{first.lower()}@sfsync-demo.example",
                "Alias": (first[:1] + last[:4]).lower(),
                "Title": title,
                "IsActive": True,
            }
        )
    sellers = [u["_ref"] for u in org.users if u["Title"] == "Account Executive"]
    managers = [u["_ref"] for u in org.users if u["Title"] == "Onboarding Manager"]
    engineers = [u["_ref"] for u in org.users if u["Title"] == "Solutions Engineer"]
    for i, name in enumerate(ACCOUNT_NAMES):
        employees = rng.choice([12, 45, 80, 150, 320, 600, 1200, 4000, 15000])
        segment = (
            "Enterprise"
            if employees >= 1000
            else "Mid-Market"
            if employees >= 100
            else "SMB"
        )
        created = _stamp(today - timedelta(days=rng.randrange(560, 900)), rng)
        org.accounts.append(
            {
                "_ref": f"account-{i}",
                "_owner": rng.choice(sellers),
                "Name": name,
                "Type": "Customer - Direct" if i % 3 else "Prospect",
                "Industry": rng.choice(INDUSTRIES),
                "BillingCountry": rng.choice(COUNTRIES),
                "NumberOfEmployees": employees,
                "AnnualRevenue": float(employees * rng.randrange(60, 240) * 1000),
                "Segment__c": segment,
                "CreatedDate": wire_datetime(created),
                "LastModifiedDate": wire_datetime(created),
                "SystemModstamp": wire_datetime(created),
            }
        )
    for i in range(opportunities):
        account = (
            org.accounts[i % len(org.accounts)] if i < 80 else rng.choice(org.accounts)
        )
        created_day = today - timedelta(days=rng.randrange(20, 545))
        roll = rng.random()
        if roll < 0.40:
            stage, probability = "Closed Won", 100
        elif roll < 0.58:
            stage, probability = "Closed Lost", 0
        else:
            stage, probability = rng.choice(STAGES)
        closed = stage.startswith("Closed")
        close_day = (
            created_day + timedelta(days=rng.randrange(15, 120))
            if closed
            else today + timedelta(days=rng.randrange(5, 150))
        )
        if closed and close_day > today:
            close_day = today - timedelta(days=rng.randrange(0, 5))
        amount: float | None = float(
            rng.choice([6, 9, 12, 18, 25, 40, 60, 85, 120, 250]) * 1000
        )
        if i % 17 == 5:
            amount = None
        modified = (
            _stamp(min(close_day, today), rng)
            if closed
            else _stamp(
                min(created_day + timedelta(days=rng.randrange(0, 30)), today), rng
            )
        )
        record: dict[str, Any] = {
            "_ref": f"opportunity-{i}",
            "_account": account["_ref"],
            "_owner": account["_owner"],
            "Name": f"{account['Name']} — {rng.choice(PRODUCTS)} {2024 + i % 3}",
            "StageName": stage,
            "Probability": probability,
            "CloseDate": close_day.isoformat(),
            "Amount": amount,
            "Type": rng.choice(TYPES),
            "LeadSource": rng.choice(SOURCES),
            "CreatedDate": wire_datetime(_stamp(created_day, rng)),
            "LastModifiedDate": wire_datetime(modified),
            "SystemModstamp": wire_datetime(modified),
        }
        if stage == "Closed Won" and i % 6 != 0:
            record["_manager"] = rng.choice(managers)
            record["_engineer"] = rng.choice(engineers)
            if i % 4 == 0:
                record["Target_Go_Live__c"] = (
                    close_day + timedelta(days=rng.choice([21, 49, 90]))
                ).isoformat()
        if i % 29 == 11 and stage == "Closed Won":
            # Salesforce requires a close date, but a won deal whose close
            # date was left at a future guess is common; the handoff then
            # starts from the day the win is seen.
            record["CloseDate"] = (today + timedelta(days=30)).isoformat()
        org.opportunities.append(record)
    return org
