"""Write N varied customer-support prompt/response pairs as JSON Lines, for benchmarks at scale.

    python benchmarks/make_pairs.py OUT.jsonl --rows 1000000 [--seed 0] [--prompts-only]

The demo set (data/make_demo_pairs.py) has one invented company and a few dozen scenarios: a million
pairs from it would be near-copies of each other. This generator combines 20 kinds of business
(broadband, banking, airlines, clinics, ...) with 24 intents (refunds, faults, cancellations,
moves, ...), several hand-written phrasings of each prompt and response, openers, context sentences
and sign-offs, and slot values drawn from seeded Faker pools (people, towns, streets, companies,
dates) and from each business's own nouns (products, plans, reference formats, amounts). Every
pair is distinct (a duplicate is redrawn). ``--prompts-only`` writes just the prompts (one JSON
string field ``text``), e.g. held-out search queries from another seed.

Deterministic for a given seed and Faker version; no network. Lines: {"id", "domain", "intent",
"prompt", "response"}.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

# --------------------------------------------------------------------------------------------------
# Businesses: what they sell, what a customer holds, how references look, typical amounts.
# --------------------------------------------------------------------------------------------------
DOMAINS: dict[str, dict] = {
    "broadband": dict(company=["Brightwave Fibre", "Lumen Home", "CopperLine"], items=[
        "router", "fibre box", "mesh booster", "landline handset", "TV set-top box"],
        plans=["Fibre 150", "Fibre 500", "Gigabit Max", "Basic 36"], account="broadband account",
        ref="BW", amounts=(19, 89), staff="engineer", place="exchange", fault=[
        "the connection drops every evening", "the speed is a tenth of what I pay for",
        "the internet light is flashing red", "I get no dial tone", "the wifi dies upstairs"]),
    "mobile": dict(company=["Orbit Mobile", "Nimbus Telecom", "Pocketnet"], items=[
        "SIM card", "phone", "eSIM", "tablet", "smartwatch"], plans=["Unlimited 5G", "Talk & Text 10",
        "Data 50GB", "Family Share"], account="mobile contract", ref="OM", amounts=(8, 65),
        staff="network team", place="mast", fault=[
        "I have no signal at home", "my data stopped working abroad", "calls cut out after a minute",
        "texts are not arriving", "my number shows as unknown"]),
    "bank": dict(company=["Harbour Bank", "Sterling Mutual", "Northgate Savings"], items=[
        "debit card", "credit card", "chequebook", "card reader", "savings account"], plans=[
        "Everyday Current", "Premier Account", "Easy Saver", "Student Account"], account="account",
        ref="HB", amounts=(12, 2400), staff="fraud team", place="branch", fault=[
        "my card keeps getting declined", "the app shows the wrong balance", "a transfer never arrived",
        "I can't log in to online banking", "there's a payment I don't recognise"]),
    "shop": dict(company=["Kestrel Home", "Parcelpine", "Oakfield Direct"], items=[
        "sofa", "coffee machine", "pair of trainers", "desk lamp", "air fryer", "winter coat",
        "bookcase", "kettle"], plans=["Plus membership", "next-day delivery pass", "gift card",
        "store card"], account="order", ref="KH", amounts=(9, 780), staff="warehouse team",
        place="depot", fault=["the parcel never arrived", "the item arrived broken",
                              "I got the wrong size", "half of the order is missing",
                              "the tracking hasn't moved in a week"]),
    "airline": dict(company=["Skylark Air", "Meridian Airways", "Blue Heron Jet"], items=[
        "flight", "seat", "checked bag", "boarding pass", "connecting flight"], plans=[
        "Economy Light", "Economy Flex", "Business", "Premium Economy"], account="booking",
        ref="SK", amounts=(35, 1450), staff="ground crew", place="airport", fault=[
        "my flight was cancelled", "my bag didn't arrive", "I was charged twice for seats",
        "the check-in page shows an error", "my connection was missed after a delay"]),
    "hotel": dict(company=["Larchwood Hotels", "Quayside Inns", "The Fenwick Group"], items=[
        "double room", "suite", "parking space", "breakfast package", "airport transfer"], plans=[
        "flexible rate", "non-refundable rate", "loyalty stay", "weekend break"], account="reservation",
        ref="LW", amounts=(60, 1200), staff="front desk", place="hotel", fault=[
        "the room was not cleaned", "the heating didn't work", "I was charged a deposit twice",
        "my reservation isn't showing", "the booked room was given away"]),
    "insurance": dict(company=["Anchor Cover", "Shieldwell", "Greystone Insurance"], items=[
        "car policy", "home policy", "travel policy", "contents cover", "windscreen cover"], plans=[
        "Comprehensive", "Third Party", "Essentials", "Premier Cover"], account="policy", ref="AC",
        amounts=(25, 3200), staff="claims handler", place="assessor's office", fault=[
        "my claim has been open for weeks", "the premium went up without warning",
        "the renewal letter has the wrong address", "my no-claims bonus is missing",
        "the repair garage hasn't been paid"]),
    "energy": dict(company=["Greenleaf Energy", "Volt & Vale", "Ember Power"], items=[
        "smart meter", "gas meter", "prepayment key", "heat pump", "solar export meter"], plans=[
        "Fixed 12", "Variable Saver", "Green Tariff", "Economy 7"], account="energy account",
        ref="GE", amounts=(30, 480), staff="metering team", place="substation", fault=[
        "my smart meter stopped sending readings", "the bill is based on an estimate",
        "the direct debit doubled", "my prepayment key won't top up", "the meter display is blank"]),
    "food": dict(company=["Forkful", "QuickPlate", "Harvest Run"], items=[
        "pizza", "curry order", "grocery delivery", "meal kit", "birthday cake"], plans=[
        "Forkful Pass", "weekly meal plan", "student discount", "family box"], account="order",
        ref="FF", amounts=(7, 140), staff="rider", place="restaurant", fault=[
        "the food arrived cold", "the rider left it at the wrong door", "items were missing",
        "I was charged but the order was cancelled", "the order has been 'preparing' for an hour"]),
    "software": dict(company=["Cloudnest", "Taskforge", "Ledgerly"], items=[
        "workspace", "licence", "API key", "admin seat", "integration"], plans=[
        "Starter", "Team", "Business", "Enterprise"], account="subscription", ref="CN",
        amounts=(10, 900), staff="support engineer", place="data centre", fault=[
        "the dashboard won't load", "our sync has failed since the update",
        "two-factor codes aren't arriving", "exports come out empty", "users are locked out"]),
    "car_rental": dict(company=["Roadway Rentals", "Pinecar", "Swift Hire"], items=[
        "hire car", "child seat", "van", "sat nav", "roof box"], plans=[
        "basic cover", "excess waiver", "one-way hire", "weekly rate"], account="rental",
        ref="RW", amounts=(25, 950), staff="branch staff", place="rental desk", fault=[
        "I was charged for damage I didn't cause", "the car had a flat tyre",
        "the fuel charge is wrong", "the pick-up desk was closed", "the deposit hasn't been returned"]),
    "gym": dict(company=["Ironpeak Fitness", "PulseClub", "Riverside Leisure"], items=[
        "membership card", "locker", "personal training session", "class booking", "guest pass"],
        plans=["Off-Peak", "Anytime", "Couples", "Student"], account="membership", ref="IP",
        amounts=(15, 120), staff="duty manager", place="club", fault=[
        "my card won't open the gate", "I was billed after cancelling",
        "the class booking app crashes", "the showers have been cold for days",
        "my freeze wasn't applied"]),
    "clinic": dict(company=["Elmbrook Clinic", "CarePoint Health", "Westmoor Dental"], items=[
        "appointment", "prescription", "blood test", "check-up", "referral"], plans=[
        "pay-as-you-go", "family plan", "dental plan", "corporate cover"], account="patient record",
        ref="EC", amounts=(20, 650), staff="practice nurse", place="surgery", fault=[
        "my appointment was cancelled without notice", "the prescription isn't ready",
        "I was invoiced for a covered visit", "my test results haven't come through",
        "the online booking shows no slots"]),
    "streaming": dict(company=["Reelhouse", "Tunewave", "Kinoscope"], items=[
        "subscription", "profile", "download", "live channel", "family plan"], plans=[
        "Basic with ads", "Standard", "Premium 4K", "Annual"], account="subscription", ref="RH",
        amounts=(5, 140), staff="technical team", place="app", fault=[
        "videos keep buffering", "the app logs me out every day", "I was charged after the trial",
        "subtitles are out of sync", "my downloads disappeared"]),
    "parcel": dict(company=["Swiftpost", "Cobalt Couriers", "Parcelbay"], items=[
        "parcel", "letter", "return label", "pallet", "signed-for delivery"], plans=[
        "Next Day", "Economy", "International Tracked", "Same Day"], account="shipment", ref="SP",
        amounts=(3, 95), staff="driver", place="sorting centre", fault=[
        "the parcel says delivered but it isn't here", "the label won't print",
        "the customs fee seems wrong", "it's been stuck at the sorting centre", "it arrived damaged"]),
    "university": dict(company=["Hollins University", "Tamsworth College", "Eastbury Institute"],
        items=["application", "transcript", "student ID", "library account", "accommodation"],
        plans=["full-time course", "part-time course", "summer school", "foundation year"],
        account="student record", ref="HU", amounts=(40, 9250), staff="admissions office",
        place="campus", fault=["my application status hasn't changed", "the fee invoice is wrong",
                               "I can't log in to the portal", "my grades are missing",
                               "the accommodation deposit wasn't received"]),
    "lettings": dict(company=["Keystone Lettings", "Hearth & Co", "Brookside Homes"], items=[
        "flat", "tenancy", "deposit", "boiler", "parking permit"], plans=[
        "12-month tenancy", "rolling contract", "fully managed", "let only"], account="tenancy",
        ref="KL", amounts=(50, 2600), staff="property manager", place="office", fault=[
        "the boiler has broken down", "there's damp in the bedroom", "rent was taken twice",
        "my deposit hasn't been protected", "the landlord hasn't fixed the leak"]),
    "accounting": dict(company=["Tallyhouse", "Brightledger", "Fairway Accountants"], items=[
        "tax return", "payroll run", "VAT filing", "invoice", "expense claim"], plans=[
        "sole trader package", "small business plan", "bookkeeping only", "annual accounts"],
        account="client account", ref="TH", amounts=(30, 1800), staff="accountant", place="office",
        fault=["the tax return was filed late", "the payroll shows the wrong hours",
               "I was invoiced twice", "my documents upload fails", "the VAT figure looks wrong"]),
    "pet_insurance": dict(company=["Pawsure", "Tailwise Cover", "Furbrook"], items=[
        "dog policy", "cat policy", "vet claim", "dental cover", "lifetime cover"], plans=[
        "Accident Only", "Time Limited", "Lifetime 4000", "Lifetime 8000"], account="pet policy",
        ref="PW", amounts=(12, 2800), staff="claims team", place="vet", fault=[
        "my vet claim was rejected", "the premium doubled at renewal", "the excess was taken twice",
        "my pet's age is wrong on the policy", "the vet hasn't been paid"]),
    "repairs": dict(company=["Fixright", "Gadget Clinic", "Volta Repairs"], items=[
        "laptop", "phone screen", "washing machine", "games console", "fridge"], plans=[
        "one-off repair", "12-month cover", "extended warranty", "express service"],
        account="repair job", ref="FR", amounts=(25, 420), staff="technician", place="workshop",
        fault=["the repair didn't fix the fault", "it's been at the workshop for three weeks",
               "the quote changed after drop-off", "the technician missed the visit",
               "it came back with a new scratch"]),
}

# --------------------------------------------------------------------------------------------------
# Intents: prompt phrasings and responses, written for any business (slots fill in its nouns).
# --------------------------------------------------------------------------------------------------
INTENTS: dict[str, tuple[list[str], list[str]]] = {
    "double_charge": (
        ["I've been charged {amount} twice for my {item}.",
         "why did {company} take {amount} off me two times on {date}??",
         "There are two payments of {amount} on my statement for the same {account}.",
         "Got billed twice this month, {amount} each, for {plan}. Please fix."],
        ["I can see two collections of {amount} on {date}. The second was our error and I've refunded it "
         "under {ref}; it should reach you within {days} working days.",
         "Sorry, {name}. The duplicate {amount} payment has been reversed (reference {ref}). Your bank may "
         "show it as pending for a day or two."]),
    "refund_request": (
        ["Can I get a refund for the {item}? It was {amount}.",
         "I'd like my money back for {plan}, I never used it.",
         "How long does a refund take? I returned the {item} on {date}.",
         "still waiting on the {amount} refund you promised on {date}"],
        ["I've approved a refund of {amount} to the card ending {card}. It usually takes {days} working "
         "days to appear; your reference is {ref}.",
         "The refund for your {item} was sent on {date2}. If it hasn't arrived by {date3}, reply with "
         "reference {ref} and I'll chase it with our finance team."]),
    "cancel": (
        ["I want to cancel my {plan}.",
         "Please close my {account}, I'm moving to another provider.",
         "How do I cancel? I've been with {company} for {years} years and the price keeps going up.",
         "cancel everything on account {acct} please"],
        ["I've set your {plan} to end on {date2}. There's no fee to leave, and you'll get a final "
         "statement within {days} days (reference {ref}).",
         "Sorry to see you go, {name}. Before I cancel, I can offer {percent}% off for six months. If you'd "
         "still like to leave, reply CANCEL and it will close on {date2}."]),
    "fault": (
        ["Since {date}, {fault}.", "{fault} and I've already restarted everything twice.",
         "Hi, {fault}. The {item} is the one you sent me in {month}.",
         "This is the third time: {fault}. I work from home and need this sorted."],
        ["Thanks for the detail. I've run a check and booked our {staff} to look into it on {date2}; "
         "your fault reference is {ref}.",
         "Sorry about this. Please try one more restart of the {item}; if {fault_short} still happens, "
         "I've reserved a {staff} visit for {date2} between {hour}:00 and {hour2}:00 (ref {ref})."]),
    "change_address": (
        ["I'm moving to {street}, {town} on {date}. What do I need to do?",
         "Can you update my address? New one is {street}, {postcode}.",
         "moving house next month, can my {account} come with me?"],
        ["I've noted your move to {street}, {town} from {date2}. Nothing changes on your {plan}, and your "
         "next letter will go to the new address (ref {ref}).",
         "All done, {name}: your {account} now shows {street}, {postcode}. There's no charge for the "
         "change."]),
    "upgrade": (
        ["What would it cost to upgrade from {plan} to {plan2}?",
         "Is there anything better than {plan}? Happy to pay a bit more.",
         "I'd like to upgrade my {item}, what are the options?"],
        ["{plan2} is {amount} a month, {diff} more than you pay now. I can switch you from {date2} with no "
         "new contract; just reply YES.",
         "You're eligible for {plan2} at {amount} a month. I've put a quote on your {account} under {ref}; "
         "it's valid until {date3}."]),
    "login": (
        ["I can't log in to my {account}, it says my password is wrong.",
         "locked out of the app after three tries, help",
         "The reset email never arrives at {email}."],
        ["I've sent a new reset link to {email}; it lasts 30 minutes. If it's not in your inbox, check "
         "spam for a message from {company}.",
         "Your {account} was locked after too many attempts. I've unlocked it; please sign in again and "
         "choose a new password (ref {ref})."]),
    "complaint": (
        ["I want to make a formal complaint about {staff_lower} {agent}.",
         "Your service on {date} was a disgrace. {fault}.",
         "I've called {times} times about {account} {acct} and nobody calls back."],
        ["I'm sorry, {name}. I've logged a formal complaint ({ref}) and a manager will reply within "
         "{days} working days. As an apology I've added a {amount} credit.",
         "Thank you for telling us. Complaint {ref} is open and assigned to our {town} team; you'll hear "
         "from them by {date2}."]),
    "price_question": (
        ["How much is {plan}?", "What's the monthly price of {plan} with the {item}?",
         "Is {plan} cheaper if I pay yearly?"],
        ["{plan} costs {amount} a month, or {amount2} if you pay for the year up front.",
         "Right now {plan} is {amount} a month including the {item}. The price is fixed until {date3}."]),
    "reschedule": (
        ["Can I move my {staff_lower} visit from {date} to another day?",
         "I can't make the appointment on {date}, is {weekday} possible?",
         "need to rebook, something came up on {date}"],
        ["No problem: I've moved it to {weekday} {date2}, between {hour}:00 and {hour2}:00. Your "
         "reference stays {ref}.",
         "The earliest slot is {date2} at {hour}:30. I've held it for you; reply YES to confirm or tell me "
         "a better day."]),
    "lost_item": (
        ["I think I left my {lost} at your {place} in {town}.",
         "lost my {lost} on {date}, did anyone hand it in?"],
        ["I've checked with the {place} in {town}: a {lost} matching your description was handed in on "
         "{date2}. Bring photo ID and quote {ref} to collect it.",
         "Nothing has been handed in yet, but I've logged it as {ref} and we'll email {email} if it turns "
         "up in the next 30 days."]),
    "damaged": (
        ["The {item} arrived damaged. What now?",
         "{item} came with a crack down the side, order {acct}",
         "Opened the box and the {item} is broken."],
        ["Sorry about that. I've arranged a replacement {item} for {date2} and a courier will collect the "
         "damaged one the same day (ref {ref}).",
         "Please send a photo of the damage to {support_email} quoting {ref}; once we have it we'll refund "
         "{amount} or send a new {item}, whichever you prefer."]),
    "payment_method": (
        ["I've got a new card, how do I update my payment details?",
         "Switch my direct debit to my new bank please, sort code {sort}.",
         "my payment failed because the card expired"],
        ["You can update the card under Account > Payments. I've paused the late fee until {date2} so "
         "there's time to change it.",
         "I've set up the new direct debit from sort code {sort}; the first collection of {amount} will "
         "be on {date2}."]),
    "invoice": (
        ["Can I get a VAT invoice for {month}?", "Please email me copies of my last {n} bills.",
         "I need a receipt for {amount} paid on {date} for my accountant."],
        ["I've emailed the invoice for {month} to {email}. It shows {amount} including VAT.",
         "Copies of your last {n} statements are on their way to {email}; they're also under Documents "
         "in your {account}."]),
    "loyalty": (
        ["How many points do I have?", "Can I use my loyalty points on {plan}?",
         "My points from {month} never showed up."],
        ["You have {points} points, worth {amount}. They can be used on {plan} at checkout.",
         "I've added the missing {points} points from {month} to your {account}; they'll show within 24 "
         "hours."]),
    "warranty": (
        ["Is my {item} still under warranty? I bought it in {month} {year}.",
         "The {item} stopped working after {n} months, is that covered?"],
        ["Yes, it's covered until {date3}. I've opened warranty claim {ref}; a {staff} will contact you "
         "within {days} days.",
         "Your {item} is {n} months old, so it's inside the 2-year warranty. Send it to our {town} "
         "{place} with reference {ref} and we'll repair it free of charge."]),
    "transfer": (
        ["Can I transfer my {account} to my {relative}?",
         "My {relative} passed away, how do I close or transfer their {account}?"],
        ["Of course. Your {relative} needs to accept the transfer in the email we'll send them; "
         "everything moves over on {date2} (ref {ref}).",
         "I'm very sorry for your loss. Our bereavement team will handle the {account} for you; they will "
         "call you on {phone} within {days} working days."]),
    "opening_hours": (
        ["What time does the {town} {place} open on {weekday}?",
         "Are you open on the bank holiday?", "is the {place} on {street} open late?"],
        ["The {town} {place} is open {hour}:00-{hour2}:00 on {weekday}s, and our chat runs until 10pm.",
         "On bank holidays we open 10:00-16:00. The {place} on {street} closes at {hour2}:00."]),
    "new_account": (
        ["I'd like to sign up for {plan}. What do you need from me?",
         "How long does it take to set up a new {account}?", "can I join today and start on {date}?"],
        ["You can join online in about ten minutes; we need ID and a payment card. {plan} can start "
         "from {date2}.",
         "I've started an application for you under {ref}. Once you confirm your email, {plan} will be "
         "active within {days} days."]),
    "delivery_time": (
        ["When will my {item} arrive?", "Order {acct} still hasn't shipped, ordered on {date}.",
         "where is my {item}??? it said {date}"],
        ["Your {item} left our {place} on {date} and is due on {date2}. Track it with reference {ref}.",
         "There's a delay at the {place} in {town}; your {item} will now arrive on {date2}. I've "
         "refunded the {amount} delivery charge."]),
    "discount": (
        ["Do you have any discounts for students or pensioners?",
         "A friend got {percent}% off, can I have the same?",
         "is there a promo code for {plan}?"],
        ["We can take {percent}% off {plan} for the first {n} months. I've applied it to your {account}.",
         "There's no open promotion today, but as a customer since {year} you qualify for {amount} off "
         "your next bill."]),
    "data_request": (
        ["Please send me all the personal data you hold about me.",
         "Delete my details from your systems.", "Who have you shared my data with?"],
        ["I've logged your request as {ref}. We'll send the data we hold to {email} within 30 days.",
         "Your deletion request {ref} is in progress. Some records must be kept for {n} years by law; "
         "everything else will be removed by {date3}."]),
    "accessibility": (
        ["Can I get my letters in large print?",
         "I'm hard of hearing, is there a text service?",
         "My {relative} helps with my {account}, can they speak for me?"],
        ["Done: future letters will come in large print to {street}, {town}.",
         "Yes. I've added your {relative} {name2} as a trusted contact on the {account} (ref {ref}); they "
         "can now call on your behalf."]),
    "feedback": (
        ["Just wanted to say {agent} was brilliant on the phone today.",
         "Great service from the {staff_lower} who came on {date}, thank you!"],
        ["Thank you, {name}! I've passed your kind words to {agent} and their manager.",
         "That's lovely to hear. I'll make sure the {staff_lower} sees this. Is there anything else I can "
         "help with?"]),
}

OPENERS = ["", "", "", "Hi, ", "Hello, ", "Hi there. ", "Good morning. ", "Evening, ", "Hey, ",
           "Dear {company}, ", "Hi {company}, ", "To whom it may concern: ", "Quick one: ", "Urgent: "]
CONTEXT = ["", "", "", "", " I've been a customer for {years} years.", " My account number is {acct}.",
           " This is the {times_th} time I've asked.", " I'm writing on behalf of my {relative}.",
           " I'm abroad until {date3}.", " My name is {name}.", " I live in {town}.",
           " The app didn't help.", " Your chatbot sent me here.", " I called yesterday but gave up."]
CLOSERS = ["", "", "", " Thanks.", " Thanks in advance!", " Cheers", " Please help.", " Regards, {first}",
           " Many thanks, {first}", " ASAP please.", " Thank you so much.", " x"]
SIGNOFFS = ["", "", " Anything else I can help with?", " Have a good day.", " — {agent}, {company}",
            " Kind regards, {agent}.", " Thanks for your patience."]
LOST = ["umbrella", "wallet", "phone", "scarf", "keys", "glasses", "backpack", "headphones"]
RELATIVES = ["mum", "dad", "wife", "husband", "partner", "son", "daughter", "grandmother", "brother"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


class _Pools:
    """Slot values drawn once from Faker (seeded) so that a million rows cost no Faker calls."""

    def __init__(self, seed: int, size: int = 4000) -> None:
        from faker import Faker

        fake = Faker(["en_GB", "en_US", "en_IE"])
        fake.seed_instance(seed)
        self.names = [fake.name() for _ in range(size)]
        self.firsts = [fake.first_name() for _ in range(size // 2)]
        self.towns = list(dict.fromkeys(fake.city() for _ in range(size)))
        self.streets = [fake.street_address() for _ in range(size)]
        self.postcodes = [fake.postcode() for _ in range(size)]
        self.emails = [fake.free_email() for _ in range(size)]
        self.phones = [fake.phone_number() for _ in range(size)]


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _date(rng: random.Random) -> str:
    style = rng.randrange(3)
    day, month = rng.randint(1, 28), rng.choice(MONTHS)
    if style == 0:
        return f"{_ordinal(day)} {month}"
    if style == 1:
        return f"{day} {month[:3]}"
    return f"{rng.choice(WEEKDAYS)} {day} {month}"


class PairMaker:
    """Seeded maker of prompt/response pairs."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pools = _Pools(seed)
        self.domains = list(DOMAINS)
        self.intents = list(INTENTS)

    def slots(self, domain: dict) -> dict:
        rng, p = self.rng, self.pools
        low, high = domain["amounts"]
        amount = rng.uniform(low, high)
        plans = domain["plans"]
        plan = rng.choice(plans)
        hour = rng.randint(7, 15)
        fault = rng.choice(domain["fault"])
        staff = domain["staff"]
        return {
            "company": rng.choice(domain["company"]), "item": rng.choice(domain["items"]), "plan": plan,
            "plan2": rng.choice([x for x in plans if x != plan]), "account": domain["account"],
            "amount": f"£{amount:,.2f}", "amount2": f"£{amount * rng.uniform(9, 11.5):,.2f}",
            "diff": f"£{rng.uniform(2, 25):.2f}", "ref": f"{domain['ref']}-{rng.randrange(10**6, 10**7)}",
            "acct": f"{rng.randrange(10**7, 10**8)}", "card": f"{rng.randrange(10**4):04d}",
            "date": _date(rng), "date2": _date(rng), "date3": _date(rng), "month": rng.choice(MONTHS),
            "year": rng.randint(2012, 2026), "years": rng.randint(2, 25), "days": rng.choice([3, 5, 7, 10, 14]),
            "name": rng.choice(p.names), "name2": rng.choice(p.names), "first": rng.choice(p.firsts),
            "agent": rng.choice(p.firsts), "town": rng.choice(p.towns), "street": rng.choice(p.streets),
            "postcode": rng.choice(p.postcodes), "email": rng.choice(p.emails), "phone": rng.choice(p.phones),
            "support_email": f"help@{domain['company'][0].split()[0].lower()}.example",
            "fault": fault, "fault_short": fault.split(" and ")[0], "staff": staff,
            "staff_lower": staff.lower(), "place": domain["place"], "weekday": rng.choice(WEEKDAYS),
            "hour": hour, "hour2": hour + rng.randint(2, 5), "percent": rng.choice([5, 10, 15, 20, 25, 30]),
            "points": f"{rng.randrange(200, 60000):,}", "n": rng.randint(2, 12), "times": rng.randint(3, 9),
            "times_th": _ordinal(rng.randint(2, 6)), "relative": rng.choice(RELATIVES),
            "lost": rng.choice(LOST), "sort": f"{rng.randrange(10, 99)}-{rng.randrange(10, 99)}-"
                                                f"{rng.randrange(10, 99)}",
        }

    def pair(self) -> dict:
        rng = self.rng
        domain_name = rng.choice(self.domains)
        intent = rng.choice(self.intents)
        prompts, responses = INTENTS[intent]
        s = self.slots(DOMAINS[domain_name])
        opener, body = rng.choice(OPENERS), rng.choice(prompts)
        if opener.endswith((", ", ": ")) and body[:2] not in ("I ", "I'") and body[0] != "{":
            body = body[0].lower() + body[1:]  # "Hi, can I ..." rather than "Hi, Can I ..."
        prompt = (opener + body + rng.choice(CONTEXT) + rng.choice(CLOSERS)).format(**s)
        response = (rng.choice(responses) + rng.choice(SIGNOFFS)).format(**s)
        if rng.random() < 0.15:  # some customers type in lower case
            prompt = prompt.lower()
        return {"domain": domain_name, "intent": intent, "prompt": prompt.strip(), "response": response.strip()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prompts-only", action="store_true", help="write {'text': prompt} lines only")
    args = parser.parse_args(argv)
    maker = PairMaker(args.seed)
    seen: set[str] = set()
    written = 0
    with open(args.out, "w", encoding="utf-8") as fh:
        while written < args.rows:
            pair = maker.pair()
            key = pair["prompt"] if args.prompts_only else pair["prompt"] + "\x00" + pair["response"]
            if key in seen:
                continue
            seen.add(key)
            if args.prompts_only:
                row = {"id": f"q{written}", "text": pair["prompt"]}
            else:
                row = {"id": f"p{written}", **pair}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            written += 1
    print(json.dumps({"out": str(args.out), "rows": written, "seed": args.seed}), file=sys.stderr)


if __name__ == "__main__":
    main()
