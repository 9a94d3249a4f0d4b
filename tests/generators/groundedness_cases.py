"""Constructed cases for the built-in groundedness score: for each prompt, the records that ground
it and four responses — grounded (a paraphrase of the records' facts), copied (a record's own
response), off-record (plausible, on the subject, but with facts no record holds) and
contradicting (the records' facts with the key values swapped). Written for these tests; two domains
that the demo seed set does not cover (a bicycle repair shop, a public library)."""

from __future__ import annotations

CASES = [
    {
        "prompt": "My rear brake squeals every time I stop. Can you fix it?",
        "records": [
            "Prompt: Why do my disc brakes squeal?\n\nResponse: Squealing disc brakes are usually glazed or "
            "contaminated pads. We replace the pads and clean the rotor for £25 including parts, same day.",
            "Prompt: How long does a brake service take?\n\nResponse: A full brake service takes about an hour; "
            "drop the bike off before 10am and collect it after 4pm.",
        ],
        "grounded": "A squeal at every stop usually means the pads are glazed or contaminated. We can replace the "
                    "pads and clean the rotor for £25 with parts, and it is done the same day.",
        "copied": "Squealing disc brakes are usually glazed or contaminated pads. We replace the pads and clean "
                  "the rotor for £25 including parts, same day.",
        "off_record": "That sounds like a worn cable. Our mechanic Dave will adjust the tension and grease the "
                      "pivots for £12, which takes around ten minutes while you wait.",
        "contradicting": "Squealing means the rotor is warped, so it must be replaced. That costs £80 and takes "
                         "three days, and we cannot clean pads.",
    },
    {
        "prompt": "Do you do puncture repairs while I wait?",
        "records": [
            "Prompt: Can you fix a flat tyre?\n\nResponse: Yes, a puncture repair is £8 per wheel and usually "
            "done while you wait in about 15 minutes. A new inner tube is £6 extra.",
            "Prompt: Do you fit tubeless tyres?\n\nResponse: We fit tubeless tyres for £20 per wheel including "
            "sealant; book it a day ahead.",
        ],
        "grounded": "Yes, we repair punctures while you wait: it takes about 15 minutes and costs £8 per wheel, "
                    "plus £6 if the inner tube needs replacing.",
        "copied": "Yes, a puncture repair is £8 per wheel and usually done while you wait in about 15 minutes. A "
                  "new inner tube is £6 extra.",
        "off_record": "We only repair punctures by appointment on Tuesdays. Bring the wheel off the bike and "
                      "expect to pay £15, including a free safety check of the chain.",
        "contradicting": "No, a puncture repair is never done while you wait: it takes two days and costs £30 "
                         "per wheel.",
    },
    {
        "prompt": "How many books can I borrow at once with a standard card?",
        "records": [
            "Prompt: What is the borrowing limit?\n\nResponse: A standard adult card lets you borrow up to 12 "
            "items at a time for three weeks each. Children's cards allow 8 items.",
            "Prompt: Can I renew my loans online?\n\nResponse: You can renew each loan twice online or by phone, "
            "unless another member has reserved it.",
        ],
        "grounded": "With a standard adult card you can have up to 12 items out at a time, each for three weeks.",
        "copied": "A standard adult card lets you borrow up to 12 items at a time for three weeks each. "
                  "Children's cards allow 8 items.",
        "off_record": "You can take out 30 books, but DVDs cost £2 each to hire and must come back within two "
                      "days, and e-books are unlimited through our partner app.",
        "contradicting": "A standard card lets you borrow only 4 items at a time, for one week each.",
    },
    {
        "prompt": "I returned a book late, what is the fine?",
        "records": [
            "Prompt: Do you charge late fees?\n\nResponse: Adult books are 25p per day late, capped at £5 per "
            "item. There are no fines on children's books.",
            "Prompt: I lost a library book, what happens?\n\nResponse: Lost items are charged at their "
            "replacement cost plus a £3 processing fee; we refund it if the book turns up within 6 months.",
        ],
        "grounded": "Late adult books are charged 25p for each day, up to a maximum of £5 per item; children's "
                    "books have no fines.",
        "copied": "Adult books are 25p per day late, capped at £5 per item. There are no fines on children's "
                  "books.",
        "off_record": "Late returns are free for the first month, after which your card is suspended until a "
                      "librarian reviews your account at the main desk.",
        "contradicting": "Adult books are £1 per day late with no cap, and children's books are fined twice "
                         "that.",
    },
    {
        "prompt": "Is there somewhere to study quietly in the library?",
        "records": [
            "Prompt: Do you have study spaces?\n\nResponse: The second floor is a silent study area with 40 desks "
            "and power sockets, open until 8pm on weekdays. Desks cannot be booked.",
            "Prompt: Is there free wifi?\n\nResponse: Free wifi is available throughout the building; log in with "
            "your library card number.",
        ],
        "grounded": "Yes: the second floor is a silent study area with 40 desks and sockets, open until 8pm on "
                    "weekdays. You cannot book a desk, but wifi is free with your card number.",
        "copied": "The second floor is a silent study area with 40 desks and power sockets, open until 8pm on "
                  "weekdays. Desks cannot be booked.",
        "off_record": "Our quiet pods on the ground floor can be reserved for two hours through the council "
                      "website, and coffee is served in the basement café.",
        "contradicting": "The second floor is a noisy group area with 5 desks, closed on weekdays; desks must "
                         "be booked a week ahead.",
    },
    {
        "prompt": "Can you service my e-bike motor?",
        "records": [
            "Prompt: Do you work on electric bikes?\n\nResponse: We service e-bikes with Bosch and Shimano "
            "motors: a standard service is £60 and includes a diagnostic report and firmware update.",
            "Prompt: Can you replace my e-bike battery?\n\nResponse: We order genuine batteries only; delivery "
            "takes 5 to 7 working days and fitting is free.",
        ],
        "grounded": "Yes, if it has a Bosch or Shimano motor. A standard e-bike service costs £60 and comes with "
                    "a diagnostic report and a firmware update.",
        "copied": "We service e-bikes with Bosch and Shimano motors: a standard service is £60 and includes a "
                  "diagnostic report and firmware update.",
        "off_record": "We rebuild any brand of hub motor, including Bafang and Yamaha, for £150, and we can also "
                      "unlock the speed limiter while it is here.",
        "contradicting": "We do not service Bosch or Shimano motors, and a service costs £200 without any "
                         "report.",
    },
]
