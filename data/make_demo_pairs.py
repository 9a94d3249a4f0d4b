"""Generate data/demo_pairs.jsonl: customer-support prompt/response pairs for a fictional ISP.

Brightwave Fibre is an invented home-internet provider. Every prompt and response below was written
by hand for this demo; the script only fills in slot values (plans, prices, dates, routers) and
combines the variants. It also plants exact duplicates, near-duplicates and near-misses and records
the ground truth in data/demo_pairs_duplicates.json.

Deterministic (seeded), stdlib only, no network:

    python data/make_demo_pairs.py
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

SEED = 20261122
HERE = Path(__file__).resolve().parent
OUT = HERE / "demo_pairs.jsonl"
TRUTH = HERE / "demo_pairs_duplicates.json"

# ---------------------------------------------------------------------------------------------
# The invented world: plans, prices, fees and hardware are used consistently across responses.
# ---------------------------------------------------------------------------------------------
PLANS = [  # name, download Mbps, upload Mbps, monthly price (GBP)
    ("Spark 100", 100, 20, 29.00),
    ("Glow 300", 300, 50, 36.00),
    ("Beam 500", 500, 100, 44.00),
    ("Blaze 1000", 1000, 200, 58.00),
]
ROUTERS = ["BW Hub 2", "BW Hub 3", "BW Hub 4 Pro"]
TOWNS = ["Ashby Vale", "Kettlebridge", "Marlow Green", "Stoneleigh", "Wexcombe", "Harrowfield", "Dunmere"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
DEVICES = ["smart TV", "PS5", "Xbox", "Kindle", "laptop", "Ring doorbell", "Chromecast"]
ROOMS = ["back bedroom", "loft conversion", "garden office", "kitchen extension", "top floor study"]
ODD_CHARGES = [4.99, 9.99, 12.50, 17.45, 23.00, 31.80, 49.99, 64.20]

# Fixed fees (see data/README.md): installation 49.00, late payment 7.50, missed-appointment credit 25.00,
# engineer call-out 65.00, home move 35.00, paper bill 2.00/month, unreturned router 60.00,
# Booster mesh unit 4.00/month, Hub 4 Pro upgrade 30.00 one-off.

# ---------------------------------------------------------------------------------------------
# Hand-written scenarios. Each: (prompt variants, response variants). Slots use str.format names
# from make_context(). Every (scenario, prompt variant, response variant) combination is a
# plausible pairing.
# ---------------------------------------------------------------------------------------------
SCENARIOS: dict[str, list[tuple[list[str], list[str]]]] = {
    "billing": [
        (
            ["Hi, I've been charged £{price} twice this month for my {plan} plan. Can you sort this out?",
             "why have u taken £{price} off me TWICE?? one payment was enough thanks",
             "Looking at my bank statement there are two direct debits from Brightwave on the {dom_th}, "
             "both £{price}. I only have one account."],
            ["Sorry about that. I can see a duplicate collection of £{price} on the {dom_th} for your {plan} "
             "plan. I've raised refund {ref} and the money should be back in your account within 3-5 "
             "working days. You don't need to contact your bank.",
             "Thanks for flagging this. The second £{price} payment was a collection error on our side and "
             "I've reversed it under reference {ref}. Your bank may show it as pending for a day or two, "
             "but it will land within 5 working days at the latest."],
        ),
        (
            ["Got a letter saying my bill is going up in April. How much will I actually be paying?",
             "Is Brightwave raising prices again?? I'm on {plan} and nobody asked me"],
            ["Every April our monthly prices rise by a fixed £3.00, which was set out in your contract "
             "when you joined. For {plan} that takes you from £{price} to £{rise_price} a month from your "
             "April bill. Nothing else on your account changes.",
             "Yes, the annual change is a flat £3.00 per month, so your {plan} plan moves from £{price} "
             "to £{rise_price}. If you'd rather keep costs down, Spark 100 is £29.00 a month and I can "
             "quote you for a switch."],
        ),
        (
            ["There's a £7.50 late payment fee on my bill but the payment only went out a day late "
             "because of a bank holiday.",
             "late fee of 7.50?? my direct debit bounced once, first time in {years} years"],
            ["I understand, and I've removed the £7.50 late payment fee as a one-off goodwill gesture. "
             "You'll see the credit on your next bill. To avoid it happening again you can move your "
             "payment date in the Brightwave app under Billing > Payment date.",
             "You've been a customer for {years} years with no missed payments, so I've waived the "
             "£7.50 charge. The credit will show on your {month} bill. If your bank ever rejects a "
             "payment again we retry automatically after 5 days before any fee is added."],
        ),
        (
            ["My first bill is £{first_bill}, way more than the £{price} I signed up for. What's going on?",
             "Just got my first bill and it's higher than I was told. Is this right?"],
            ["Your first bill includes part of last month as well as this one. You went live on the "
             "{dom_th}, so there are {n_days} days of {plan} charged pro rata on top of your first full "
             "month. From next month it'll be the usual £{price}.",
             "That's normal for a first bill: it covers the days from your activation date to the end "
             "of the month plus the month ahead. After this one your {plan} bill settles at £{price} a "
             "month, collected on the same date each month."],
        ),
        (
            ["Can I change the date my direct debit comes out? Payday moved to the {dom_th}.",
             "hiya, need my payment date moved to later in the month pls"],
            ["Of course. I've moved your collection date to the {dom_th}, starting from your {month} "
             "bill. Your next bill might be a little higher or lower for the adjusted period, and you'll "
             "get an email confirming the change.",
             "You can pick any date between the 1st and 28th. I've set yours to the {dom_th} from next "
             "month. If you ever want to change it again you can do it yourself in the app under "
             "Billing > Payment date."],
        ),
        (
            ["I got an email saying my payment failed. I've got money in the account so not sure why.",
             "Payment failed again?? I updated my card last week!"],
            ["Sorry for the hassle. The collection on the {dom_th} was returned by your bank with code "
             "'instruction cancelled', which usually means the old mandate was closed. I've sent a link "
             "to set up a new direct debit; once that's done we'll retry and no late fee will be added.",
             "I can see the new card is saved, but your monthly payment is still set up as a direct "
             "debit, not a card payment. I've switched the payment method to the new card and retried "
             "the £{price}; it went through just now, reference {ref}."],
        ),
        (
            ["I cancelled last month but you still owe me money, my final bill said I was in credit.",
             "where is my refund?? final bill says credit of £{amount}"],
            ["Your final bill does show a credit of £{amount}. Refunds go back to the account your "
             "direct debit came from and are processed 10 working days after the final bill, so you "
             "should see it by {day} next week. The reference is {ref}.",
             "I can see the £{amount} credit on your closed account. I've pushed the refund through "
             "today under {ref}; it usually takes 3-5 working days to reach your bank."],
        ),
        (
            ["What is the £49 charge on my first bill? Nobody mentioned it.",
             "Why is there a 49 pound fee on my bill, I thought installation was free??"],
            ["The £49.00 is our one-off installation fee, which covers the engineer visit and fitting "
             "the fibre point. It's shown on the order summary, but I appreciate it's easy to miss. It "
             "won't appear again on future bills.",
             "Installation is free on 24-month contracts, but your {plan} order was on a 12-month term, "
             "which has a £49.00 set-up fee. If you'd like, I can move you to 24 months today and refund "
             "the £49.00 as a credit on your next bill."],
        ),
        (
            ["Why am I paying £2 a month for a paper bill? I never asked for one.",
             "can u stop the paper bills, im being charged for them"],
            ["Paper bills cost £2.00 a month, and I can see yours were switched on when the account "
             "was set up. I've turned them off and refunded the last {n_months} months (£{paper_refund}) "
             "to your account. Your bills will now be emailed and available in the app."],
        ),
        (
            ["My bill just went up to £{full_price} from £{price}, nobody warned me.",
             "The discount on my {plan} plan seems to have stopped, is that right?"],
            ["Your 12-month introductory discount ended on your last bill, so the price moved to the "
             "standard £{full_price}. We send a reminder 30 days before, but I'm sorry it didn't reach "
             "you. As you're out of contract I can offer a new 18-month deal on {plan} at £{price}.",
             "That's right, the welcome offer ran for 12 months and has now finished. I can re-contract "
             "you on {plan} at £{price} a month for 18 months, or move you to Spark 100 at £29.00 if "
             "you'd rather keep it lower."],
        ),
        (
            ["I've been charged £65 for an engineer visit but the fault was on your side, not mine!",
             "Engineer call-out fee on my bill, but he said the problem was in the street"],
            ["You're right: the engineer's notes for job {ref} say the fault was in the street cabinet, "
             "so the £65.00 call-out charge shouldn't have been applied. I've removed it and the credit "
             "will appear on your next bill."],
        ),
    ],
    "outage": [
        (
            ["My internet has been completely down since {hours} this morning. Is there an outage in "
             "{town}?",
             "internet's dead. nothing works. {town}. whats going on",
             "Hello, no connection at all since this morning. Router looks normal. Is it just me?"],
            ["Yes, there's a known fault affecting part of {town} since early this morning, reference "
             "{ref}. Engineers are on site and the current estimate for a fix is {eta} today. You don't "
             "need to do anything; the connection will come back on its own once it's repaired.",
             "I've checked your line and there's an area fault in {town} under incident {ref}. The "
             "engineers expect service back by {eta}. I've added your number to text updates, so you'll "
             "hear from us as soon as it's fixed."],
        ),
        (
            ["After the storm last night our internet isn't working. Could a line be down?",
             "storm took out our broadband i think, theres a cable hanging off the pole outside"],
            ["Storm damage is likely. Please keep away from any hanging cable. I've booked a repair "
             "engineer for {day} between 8am and 1pm under {ref}, and if it turns out to be an area "
             "fault you'll be fixed sooner without a visit.",
             "Thanks for letting us know about the cable. I've logged it as a safety-priority repair "
             "({ref}) and passed the pole location to our network team. Most storm repairs are "
             "completed within 48 hours."],
        ),
        (
            ["The connection drops for a few minutes most evenings around 8pm. It's been a week now.",
             "Keeps cutting out every night!!! Seriously annoying when I'm watching anything"],
            ["Thanks for the detail. Our line test shows {drops} short drops in the last 7 days, all "
             "between 7pm and 10pm. I've raised a line fault ({ref}) and our network team will monitor "
             "it for 48 hours; if the drops continue we'll book an engineer at no cost.",
             "I can see the drops on our side too, so it isn't your equipment. I've opened fault {ref} "
             "and scheduled a remote line reset for tonight at 2am. If it happens again after that, "
             "reply to this message and we'll send an engineer."],
        ),
        (
            ["I got a text about planned maintenance on {day} night. How long will we be offline?",
             "what's this maintenance thing on {day}, will the internet be off all night?"],
            ["The planned work on {day} runs between midnight and 6am, but most homes are only "
             "offline for about 30 minutes within that window. No action is needed; your router will "
             "reconnect by itself.",
             "It's an upgrade to the equipment serving {town}. Service may drop at any point between "
             "midnight and 6am on {day}, usually for less than an hour. If you're still offline after "
             "7am, restart your router and let us know."],
        ),
        (
            ["We were without internet for {n_days} days last week. Do we get any money back?",
             "That outage lasted {n_days} days. I work from home. What compensation do I get?"],
            ["Sorry for the disruption. For outages over 2 working days you're automatically "
             "credited £9.33 per day after the first two. I've applied £{outage_credit} to your "
             "account, which will show on your {month} bill.",
             "I can confirm the fault ({ref}) lasted {n_days} days. Under our service guarantee I've "
             "added a credit of £{outage_credit} to your next bill. You don't need to claim it "
             "separately."],
        ),
        (
            ["The light on the fibre box on the wall is red. Internet not working.",
             "red light on the little white box where the fibre comes in, is that bad"],
            ["A red light on the fibre box (the ONT) means it isn't receiving a signal. Please check "
             "the green fibre cable is clicked in firmly at both ends and not bent sharply. If it stays "
             "red after that, I'll book an engineer; the earliest slot is {day} morning.",
             "That means the signal isn't reaching your home. I've run a test and it shows a break "
             "on the fibre to your property, so I've booked an engineer for {day} between 1pm and "
             "6pm, reference {ref}. There's no charge as the fault is on our network."],
        ),
        (
            ["I work from home and the internet is down. I need an ETA please, I have meetings all day.",
             "need a realistic time for the fix, I have to work, is it hours or days?"],
            ["The current fix estimate for the fault in your area is {eta} today. If you need to work "
             "before then, we can send a 4G backup dongle with 50GB of data free of charge; it would "
             "arrive tomorrow by 1pm.",
             "Engineers are working on a damaged cable and expect to restore service by {eta}. I know "
             "that's a long day; you can use your phone's hotspot in the meantime and I've added a day's "
             "credit to your account for the inconvenience."],
        ),
        (
            ["Roadworks outside today and now no broadband. Coincidence?",
             "The council dug up our street and our internet died an hour later lol"],
            ["Probably not a coincidence: our network shows a cable cut near your address, logged as "
             "{ref}. Repairs after third-party damage usually take 24-48 hours. We'll text you when "
             "it's fixed and compensation will be added automatically.",
             "There's a confirmed cable strike on your street from today's roadworks. Our repair crew "
             "is booked for {day} and we expect service back by the end of that day. Sorry for the "
             "trouble."],
        ),
    ],
    "wifi": [
        (
            ["The wifi doesn't reach our {room}. Is there anything that can boost it?",
             "no wifi signal in the {room} at all, rest of the house is fine"],
            ["Our Booster mesh unit is £4.00 a month and extends your network to rooms the router "
             "can't reach. Place it halfway between the router and the {room}. I can send one out now "
             "and it will arrive in 2-3 working days.",
             "First try moving the router off the floor and out of any cupboard, that alone often "
             "helps. If the {room} is still patchy, a Brightwave Booster at £4.00 a month will fix it "
             "and pairs with your {router} at the press of a button."],
        ),
        (
            ["I forgot my wifi password. How do I find it?",
             "what's my wifi password?? the sticker on the router has rubbed off"],
            ["The default password is printed on the card that slides out of the back of your "
             "{router}. If you changed it, you can view or reset it in the Brightwave app under "
             "My Wi-Fi > Network settings.",
             "You can see and change it in the Brightwave app under My Wi-Fi. If you can't log in, "
             "connect a laptop with a network cable and go to 192.168.1.254; the admin password is on "
             "the card at the back of the router."],
        ),
        (
            ["My new {device} won't connect to the wifi, it says wrong password but I'm sure it's right.",
             "Can't get the {device} online. Every other device is fine"],
            ["Some devices struggle with the combined 2.4GHz/5GHz network on the {router}. In the app, "
             "go to My Wi-Fi > Advanced and turn on 'Separate bands', then connect the {device} to the "
             "network ending in -2G. You can merge the bands again afterwards.",
             "Please try forgetting the network on the {device} and entering the password again; it's "
             "case-sensitive and an O and 0 are easy to mix up. If it still fails, restart the router "
             "by holding the power button for 10 seconds and try once more."],
        ),
        (
            ["wifi on my phone keeps dropping out even when im right next to the router",
             "My phone disconnects from wifi every few minutes, laptop is fine."],
            ["That points to the phone rather than the router. Please turn off 'Wi-Fi assist' or "
             "'Adaptive Wi-Fi' in the phone's settings and forget then rejoin the network. If it keeps "
             "happening, a router restart will pick a fresh channel.",
             "I've checked your {router} and it's running fine with no restarts today. Phones sometimes "
             "drop if private MAC address is switched on and the router's band steering kicks in; try "
             "turning off private address for your home network and let us know how it goes."],
        ),
        (
            ["Can I set up a separate wifi for guests so they don't have my main password?",
             "How do i make a guest network"],
            ["Yes. In the Brightwave app go to My Wi-Fi > Guest network and switch it on. You can set "
             "its own name and password, and guest devices won't be able to see anything on your main "
             "network. You can also set it to switch off automatically after 24 hours."],
        ),
        (
            ["How much are your wifi boosters? Our house is quite long and the signal dies at the back.",
             "Do you sell mesh wifi or do I need to buy my own?"],
            ["Our Booster mesh units are £4.00 a month each with no upfront cost, and most homes need "
             "one or two. They work with the {router} and appear as a single network, so devices "
             "switch automatically as you move around.",
             "We do. The Brightwave Booster is £4.00 a month, or included free with Blaze 1000. You're "
             "on {plan}, so it would be £4.00 a month added to your £{price} bill, cancellable any time "
             "with 30 days' notice."],
        ),
        (
            ["How do I change the name of my wifi network?",
             "want to rename my wifi from the default BW-xxxx to something normal"],
            ["Open the Brightwave app, go to My Wi-Fi > Network settings and edit the network name. "
             "Your devices will disconnect briefly and you'll need to reconnect them to the new name "
             "using the same password."],
        ),
        (
            ["I live in a block of flats and the wifi is terrible in the evenings. Neighbours' wifi?",
             "Wifi speed is awful at night, I can see like 30 networks from my flat"],
            ["With that many networks nearby, the 2.4GHz band gets crowded. Your {router} supports 5GHz, "
             "which is much less congested; keep devices on that where possible. I've also run a "
             "channel scan and moved your router to a quieter channel just now.",
             "Congestion from neighbouring networks is the likely cause. I've switched your router "
             "to auto channel selection and it has picked channel 44 on 5GHz. Please restart any "
             "devices and see whether the evenings improve over the next couple of days."],
        ),
        (
            ["My printer only does 2.4GHz and won't find the network. Help!",
             "printer wont connect to wifi, manual says 2.4 only"],
            ["Your {router} combines both bands under one name, which some printers can't handle. In "
             "the app under My Wi-Fi > Advanced, switch on 'Separate bands' and connect the printer to "
             "the network ending in -2G. Your other devices can stay on the main one."],
        ),
    ],
    "speed": [
        (
            ["I pay for {plan} ({speed}Mbps) but I'm only getting about {got}Mbps. Why?",
             "speedtest says {got} mbps. I'm paying for {speed}!! what is the point",
             "My speeds seem low. Paying for {speed}Mbps, seeing {got}Mbps on my laptop."],
            ["Your line itself is syncing at the full {speed}Mbps, so the slowdown is likely inside "
             "the home. Please run a test with a laptop plugged into the {router} with a cable; wifi "
             "tests are often much lower. If the cabled result is under {min_speed}Mbps, let us know "
             "and we'll investigate.",
             "Sorry to hear that. I've run a line test and it shows the connection capped at {got}Mbps "
             "because of a profile error after a recent update. I've reset it to {speed}Mbps; please "
             "restart your router and run another test in 10 minutes."],
        ),
        (
            ["Every night around 9pm everything gets really slow and buffers. Daytime is fine.",
             "why is my internet so slow in the evening? netflix keeps buffering"],
            ["Evening slowdowns can be caused by busy wifi at home as everyone comes online. Your "
             "line tests show full speed at 9pm, so try moving streaming devices to 5GHz or a cable. "
             "If a cabled test also drops in the evening, I'll raise it with our network team.",
             "I can see congestion on the equipment serving {town} between 8pm and 11pm. Our network "
             "team is adding capacity there, with the upgrade scheduled to finish by {date}. Sorry "
             "for the inconvenience in the meantime."],
        ),
        (
            ["How much to upgrade to {up_plan}? Kids are gaming and streaming at the same time.",
             "I want faster internet. What would {up_plan} cost me?"],
            ["{up_plan} is £{up_price} a month for {up_speed}Mbps, compared with £{price} for your "
             "current {plan}. The upgrade happens remotely within 24 hours, no engineer needed, and "
             "starts a new 18-month contract.",
             "Moving from {plan} to {up_plan} would be £{up_price} a month instead of £{price}. There's "
             "no upgrade fee and the new speed is usually live the same day. Shall I go ahead?"],
        ),
        (
            ["My ping in games is awful, like 80-120ms. Is that normal on fibre?",
             "lag spikes in every game, is it my connection or the game servers"],
            ["On fibre you'd normally expect 8-20ms to UK servers. Please connect your console with a "
             "network cable if possible, as wifi adds latency and spikes. If cabled ping is still over "
             "40ms, we'll check your line routing.",
             "I've checked your line and latency to our core is 6ms, so the spikes are likely wifi or "
             "the game server. Try a cable connection, and in the app turn on 'Gaming priority' for your "
             "console under My Wi-Fi > Devices."],
        ),
        (
            ["My upload is really slow and my streams keep dropping frames. What upload do I get?",
             "uploading videos takes forever, what's my upload speed meant to be"],
            ["On {plan} your upload speed is {upload}Mbps. If you stream or upload regularly, "
             "{up_plan} gives you {up_upload}Mbps up for £{up_price} a month. A cabled connection will "
             "also make uploads more stable than wifi."],
        ),
        (
            ["Speed test on my phone says {got} but on the laptop with a cable it's {speed}. Which is "
             "right?",
             "Wired I get full speed, on wifi about a third. Is the router faulty?"],
            ["Both are right: the cable shows what the line delivers and the wifi result shows what "
             "reaches the device. Walls, distance and older phones reduce wifi speed. The {router} "
             "itself is fine; a Booster unit can help if you need more speed in a particular room.",
             "That difference is normal for wifi, particularly through walls. Check the phone is on "
             "the 5GHz band, and if you're using a {router} older than the Hub 4 Pro, an upgrade to the "
             "Hub 4 Pro (£30.00 one-off) supports Wi-Fi 6 and faster wireless speeds."],
        ),
        (
            ["Can I go down to a cheaper plan? We don't need {speed}Mbps.",
             "money's tight, is there anything cheaper than {plan}"],
            ["You can move to {down_plan} at £{down_price} a month. As you're still in contract, "
             "moving down would start a new 18-month term, but there's no fee for the change. It "
             "would take effect from your next bill."],
        ),
    ],
    "router": [
        (
            ["My {router} keeps restarting itself several times a day.",
             "router reboots randomly, lights all go off then come back"],
            ["Random restarts usually mean a power or overheating issue. Please make sure the router "
             "has space around it and is using the original power supply. If it continues, I'll send a "
             "replacement {router} free of charge within 2 working days.",
             "I can see your {router} has restarted {drops} times in 24 hours, which points to a "
             "hardware fault. I've ordered a replacement under {ref}; it should arrive by {day}. Please "
             "send the old one back in the same box using the prepaid label."],
        ),
        (
            ["I still have an old BW Hub 2. Should I get a new router?",
             "my router is ancient, hub 2 i think, can i get a newer one"],
            ["The BW Hub 2 can't deliver speeds above about 300Mbps, so on {plan} you may be missing "
             "out. As a customer of {years} years you're eligible for a free upgrade to the BW Hub 4 "
             "Pro. I've placed the order and it will arrive in 3-5 working days.",
             "Yes, the Hub 2 is now end of life. The BW Hub 4 Pro costs £30.00 one-off for existing "
             "customers, or it's free if you re-contract for 18 months. It supports Wi-Fi 6 and works "
             "with our Booster mesh units."],
        ),
        (
            ["How do I factory reset my router?",
             "how to reset router to factory settings, I think I messed up a setting"],
            ["With the router switched on, press and hold the small reset button on the back with a "
             "paperclip for 15 seconds until the lights flash. It takes about 5 minutes to come back "
             "up. Your wifi name and password will go back to those on the card at the back."],
        ),
        (
            ["Can I use my own router instead of yours?",
             "I've got an ASUS router I'd like to use, is that allowed on brightwave?"],
            ["Yes. Connect your router's WAN port to the fibre box (ONT) and set it to DHCP; no "
             "username or password is needed. Please keep the {router} in case we need it for fault "
             "testing, as we can only support our own equipment.",
             "You're welcome to use your own router. Our network uses plain DHCP on the ONT, so most "
             "routers work out of the box. Please note we can't set up or troubleshoot third-party "
             "routers, and the {router} stays on loan to you."],
        ),
        (
            ["The light on my router is flashing orange. What does that mean?",
             "Router light is orange and blinking, internet not working"],
            ["A flashing orange light on the {router} means it's trying to connect but can't reach "
             "our network. Check the cable from the router to the fibre box is pushed in firmly, then "
             "restart both. If it's still orange after 10 minutes, let me know.",
             "Flashing orange means no connection to our network. I can see an outage in {town} "
             "({ref}) that is causing this, with a fix expected by {eta}. The light will turn white "
             "once the connection is back."],
        ),
        (
            ["I've cancelled, how do I send the router back?",
             "do i need to return the router after leaving"],
            ["Yes, please return the {router} within 30 days of your final day of service. We'll "
             "email a prepaid returns label; drop the box at any post office. If it isn't returned "
             "we charge £60.00 for unreturned equipment."],
        ),
        (
            ["My router gets really hot and the fan is noisy. Is that safe?",
             "the router is making a buzzing noise and is hot to touch"],
            ["It shouldn't be hot to touch or noisy. Please unplug it now and let it cool down. I've "
             "ordered a replacement {router} under {ref}, which will arrive by {day}, and we'll "
             "collect the faulty one at the same time."],
        ),
    ],
    "installation": [
        (
            ["When is the earliest you can install fibre at my address in {town}?",
             "hi, want to sign up, how soon can someone come out and install?"],
            ["The earliest installation slot in {town} is {day} {date}, either 8am-1pm or 1pm-6pm. "
             "The engineer needs about 2-3 hours and someone over 18 must be home. Installation is "
             "free on 24-month plans and £49.00 on 12-month plans.",
             "We have availability from {day} {date}. I've reserved the morning slot for you; it will "
             "be confirmed once your order is placed. You'll get a text the day before with a "
             "2-hour arrival window."],
        ),
        (
            ["The engineer was supposed to come today between 8 and 1 and nobody turned up.",
             "Waited in ALL MORNING for the installer. No show. No call. Unbelievable."],
            ["I'm really sorry. The engineer was delayed on an earlier job and the appointment "
             "should have been moved with a call to you. I've added a £25.00 missed-appointment credit "
             "and rebooked you for {day} {date} at 8am, the first slot of the day.",
             "That's not the service we aim for. I've applied our £25.00 missed-appointment credit to "
             "your account and booked a priority visit on {day} {date}, 8am-1pm, reference {ref}."],
        ),
        (
            ["Where will the engineer put the fibre box? Will they need to drill?",
             "do they have to drill holes in the wall for the install"],
            ["The fibre usually comes in where your phone line does, and the engineer drills one "
             "small hole (about 10mm) through the wall. The fibre box goes on an inside wall near a "
             "plug socket, and you can choose where within about 5 metres of the entry point."],
        ),
        (
            ["Need to move my installation appointment on {day}, something came up.",
             "Can I reschedule my install? Can't do the date I picked"],
            ["No problem. I've cancelled the {day} appointment and the next available slots are "
             "{date} (morning or afternoon). There's no charge for rescheduling with more than 24 "
             "hours' notice.",
             "You can change it up to 24 hours before in the app under Orders > Appointment. I've "
             "gone ahead and moved it to {date} in the afternoon for you; you'll get a confirmation "
             "text shortly."],
        ),
        (
            ["What happens on installation day? Do I need to do anything beforehand?",
             "first time getting fibre, what should I expect when the engineer comes"],
            ["The engineer will run fibre from the street to your home, fit the fibre box and connect "
             "your {router}. It takes around 2-3 hours. Please clear space by the wall where the cable "
             "enters and make sure someone over 18 is home for the whole visit.",
             "Just make sure the engineer can reach the front of the house and the spot where you'd "
             "like the fibre box. They'll test the line, set up the {router} and check wifi in a few "
             "rooms before leaving. Your old provider won't be cancelled automatically."],
        ),
        (
            ["I'm renting. Do I need my landlord's permission for the install?",
             "renting a flat, does landlord need to agree to brightwave install"],
            ["Yes, because the engineer will need to drill a small hole and fix a cable to the "
             "outside wall, we ask tenants to get the landlord's permission first. We can send your "
             "landlord a standard consent letter by email if that helps."],
        ),
        (
            ["Is there a self-install option? I'd rather not wait for an engineer.",
             "can i just plug it in myself, there's already a fibre box from the last people"],
            ["If a working Brightwave fibre box is already on your wall, yes. We'll post the {router} "
             "and your service will go live on {date}. Just connect the router to the box and it will "
             "set itself up within 15 minutes."],
        ),
    ],
    "moving": [
        (
            ["I'm moving house on {date}. Can I take my Brightwave broadband with me?",
             "moving next month, how do i keep my internet"],
            ["Yes, as long as your new address is in our network, which I've checked for {town}. "
             "Moving your service costs £35.00 and your contract carries on unchanged. I've booked the "
             "switch-over for {date}; bring your {router} with you.",
             "Good news: {town} is covered. Give us at least 14 days' notice and we'll stop service at "
             "the old address and start it at the new one on {date}. There's a £35.00 home move fee, "
             "waived if you upgrade your plan at the same time."],
        ),
        (
            ["We're moving to {town} but your checker says you don't cover the new address. Now what?",
             "new house isn't in your area apparently. do I have to pay to leave?"],
            ["Sorry we can't follow you there. When you move to an address we don't serve, there's "
             "no early exit fee; just send us proof of the new address, such as a tenancy agreement or "
             "completion letter, and we'll end the contract on your moving date."],
        ),
        (
            ["Moving in with my partner who already has Brightwave. Can I cancel mine without a fee?",
             "my girlfriend has brightwave at her place and im moving in, what happens to my contract"],
            ["As you'll have a Brightwave service at the new address, we can close your account "
             "without an early termination fee from {date}. If your partner's plan is slower than "
             "yours, they can upgrade to {plan} at the same time at the normal price."],
        ),
        (
            ["My moving date has changed from {date} to a week later. Can you change the home move?",
             "completion got delayed!! can my broadband move be pushed back a week"],
            ["No problem. I've moved both the stop at your old address and the start at the new one "
             "forward by a week. There's no extra charge, and you'll get a text confirming the new "
             "date. Your original order reference {ref} stays the same."],
        ),
        (
            ["Why do I have to pay £35 to move my broadband? It's the same service.",
             "the moving fee seems a bit much tbh"],
            ["The £35.00 covers activating the line at your new address and any work at the street "
             "cabinet. If you re-contract for 18 months while moving, the fee is waived, and you'd stay "
             "on {plan} at £{price}.",
             "I understand. Because you've been with us for {years} years, I've waived the £35.00 home "
             "move fee this time. Your move is booked for {date}."],
        ),
        (
            ["I'm moving abroad in {month}. How do I cancel?",
             "leaving the UK for good, need to cancel internet"],
            ["Sorry to see you go. Moving abroad counts as a move outside our network, so there's no "
             "early exit fee. I've scheduled your service to end on the last day of {month}; you'll "
             "receive a final bill and a returns label for the {router}."],
        ),
    ],
    "fraud": [
        (
            ["There's a charge of £{amount} from Brightwave on my card that I don't recognise.",
             "who took {amount} from my account?? it says brightwave but thats not my bill"],
            ["I can't see a payment of £{amount} on your Brightwave account, so this may not be from "
             "us. Please contact your card provider to dispute it and mention reference {ref}, which "
             "confirms we have no matching transaction. I've also flagged your account for monitoring."],
        ),
        (
            ["Someone called saying they were from Brightwave and asked for my bank details to fix a "
             "fault. Was that you?",
             "got a call from 'brightwave technical' asking me to install software on my pc, is that legit"],
            ["That was not us. We never ask for bank details or remote access over an unexpected call. "
             "If you gave any details, contact your bank straight away. I've noted this on your account "
             "and reported it to our fraud team under {ref}."],
        ),
        (
            ["I got a text saying I'm owed a £{amount} refund from Brightwave and to click a link. Real?",
             "email says my brightwave payment failed and to update card via a link, looks dodgy"],
            ["That's a phishing message, please don't click the link. Genuine messages only direct you "
             "to the Brightwave app or brightwavefibre.co.uk, and we never ask for card details by text. "
             "Forward texts to 7726 and emails to phishing@brightwavefibre.co.uk."],
        ),
        (
            ["I just got an email saying my account password was changed, but I didn't change it!"],
            ["I've locked your account and signed out all sessions. I've sent a secure reset link to "
             "the email address we had on file before today's change. Please also change the password "
             "on that email account, and check whether any contact details have been altered."],
        ),
        (
            ["I received a welcome letter for a new Brightwave line at an address in {town}. I never "
             "ordered it."],
            ["Thanks for telling us. I've cancelled order {ref} and passed it to our fraud team, as it "
             "looks like your details were used without permission. You won't be charged, and we "
             "recommend checking your credit file for other applications."],
        ),
    ],
}

# Number of unique pairs to draw per category (uneven on purpose; fraud is the rare one).
TARGETS = {"billing": 40, "outage": 32, "wifi": 28, "speed": 24, "router": 20, "installation": 18,
           "moving": 14, "fraud": 8}
N_EXACT = 4
N_NEAR = 12
N_NEAR_MISS = 5
# A near-miss must differ in a slot a reader would notice in the prompt: plan, money, date or speed.
SALIENT = re.compile(r"\{(plan|price|amount|date|speed|got|n_days|first_bill|full_price|up_plan)\}")


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def make_context(rng: random.Random) -> dict[str, str]:
    """Random slot values for one pair; derived values stay consistent with the price list."""
    i = rng.randrange(len(PLANS))
    name, speed, upload, price = PLANS[i]
    up = PLANS[min(i + 1, len(PLANS) - 1)]  # equals the current plan on Blaze 1000; see usable()
    down = PLANS[max(i - 1, 0)]  # equals the current plan on Spark 100; see usable()
    dom = rng.randint(1, 28)
    n_days = rng.randint(3, 9)
    hour = rng.choice(["6am", "7am", "5am", "half 6", "about 8"])
    eta = rng.choice(["2pm", "4pm", "6pm", "8pm", "10pm"])
    month = rng.choice(MONTHS)
    day_of_month = rng.randint(2, 27)
    n_months = rng.randint(2, 6)
    return {
        "plan": name, "speed": str(speed), "upload": str(upload), "price": f"{price:.2f}",
        "up_plan": up[0], "up_speed": str(up[1]), "up_upload": str(up[2]), "up_price": f"{up[3]:.2f}",
        "down_plan": down[0], "down_price": f"{down[3]:.2f}",
        "rise_price": f"{price + 3:.2f}", "full_price": f"{price + rng.choice([6, 8, 10]):.2f}",
        "first_bill": f"{price + price * n_days / 30:.2f}", "n_days": str(n_days),
        "outage_credit": f"{9.33 * max(n_days - 2, 1):.2f}",
        "got": str(max(8, int(speed * rng.uniform(0.12, 0.45)))), "min_speed": str(int(speed * 0.8)),
        "router": rng.choice(ROUTERS), "town": rng.choice(TOWNS), "day": rng.choice(DAYS),
        "date": f"{day_of_month} {month}", "month": month, "dom_th": ordinal(dom),
        "live_dom_th": ordinal(31 - n_days), "hours": hour, "eta": eta,
        "ref": f"BW-{rng.randint(100000, 999999)}", "amount": f"{rng.choice(ODD_CHARGES):.2f}",
        "years": str(rng.randint(3, 11)), "drops": str(rng.randint(4, 17)), "device": rng.choice(DEVICES),
        "room": rng.choice(ROOMS), "n_months": str(n_months), "paper_refund": f"{2 * n_months:.2f}",
    }


def usable(text: str, ctx: dict[str, str]) -> bool:
    """Upgrade/downgrade templates need a plan above/below the current one."""
    if "{up_" in text and ctx["up_plan"] == ctx["plan"]:
        return False
    return not ("{down_" in text and ctx["down_plan"] == ctx["plan"])


def fill(cat: str, key: tuple[int, int, int], rng: random.Random) -> dict:
    """Render a scenario with fresh slot values that suit its templates."""
    s, p, r = key
    prompts, responses = SCENARIOS[cat][s]
    while True:
        ctx = make_context(rng)
        if usable(prompts[p] + responses[r], ctx):
            return render(cat, key, ctx)


def render(cat: str, key: tuple[int, int, int], ctx: dict[str, str]) -> dict:
    s, p, r = key
    prompts, responses = SCENARIOS[cat][s]
    return {"category": cat, "prompt": prompts[p].format(**ctx), "response": responses[r].format(**ctx)}


def prompt_template(row: dict) -> str:
    cat, (s, p, _) = row["_key"]
    return SCENARIOS[cat][s][0][p]


# --- small edits for near-duplicates -------------------------------------------------------------
SWAPS = [("Sorry", "Apologies"), ("Please", "Kindly"), ("usually", "normally"), ("can", "could"),
         ("around", "about"), ("really", "very"), ("Yes", "Yep"), ("shortly", "soon")]


def edit_case(text: str, rng: random.Random) -> str:
    return text.lower() if text != text.lower() else text.upper()


def edit_punct(text: str, rng: random.Random) -> str:
    if text.endswith((".", "?", "!")):
        return text[:-1] + rng.choice(["", "!!", " ?", "..."])
    return text + "."


def edit_typo(text: str, rng: random.Random) -> str:
    words = [m for m in re.finditer(r"[A-Za-z]{5,}", text)]
    m = rng.choice(words)
    w = m.group()
    j = rng.randrange(1, len(w) - 2)
    w2 = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return text[:m.start()] + w2 + text[m.end():]


def edit_swap_word(text: str, rng: random.Random) -> str:
    options = [(a, b) for a, b in SWAPS if re.search(rf"\b{a}\b", text)]
    if not options:
        return edit_typo(text, rng)
    a, b = rng.choice(options)
    return re.sub(rf"\b{a}\b", b, text, count=1)


def edit_reorder(text: str, rng: random.Random) -> str:
    sents = re.split(r"(?<=[.!?])\s+", text)
    if len(sents) < 2:
        return edit_punct(text, rng)
    j = rng.randrange(len(sents) - 1)
    sents[j], sents[j + 1] = sents[j + 1], sents[j]
    return " ".join(sents)


# (field, edit) plans for the 12 near-duplicates: one or two small edits each.
NEAR_EDITS = [
    [("prompt", edit_case)],
    [("prompt", edit_punct)],
    [("prompt", edit_typo)],
    [("response", edit_reorder)],
    [("response", edit_swap_word)],
    [("prompt", edit_typo), ("response", edit_punct)],
    [("prompt", edit_case), ("response", edit_swap_word)],
    [("response", edit_typo)],
    [("prompt", edit_swap_word)],
    [("response", edit_reorder), ("prompt", edit_punct)],
    [("prompt", edit_punct), ("response", edit_typo)],
    [("prompt", edit_typo), ("response", edit_reorder)],
]


def main() -> None:
    rng = random.Random(SEED)
    base: list[dict] = []
    for cat, n in TARGETS.items():
        keys = [(s, p, r) for s, (ps, rs) in enumerate(SCENARIOS[cat])
                for p in range(len(ps)) for r in range(len(rs))]
        assert len(keys) >= n, (cat, len(keys), n)
        for key in rng.sample(keys, n):
            row = fill(cat, key, rng)
            row["_key"] = (cat, key)
            base.append(row)

    # Near-misses: same scenario and variants, different slot values (plans, amounts, dates).
    # They replace other pairs of the same category so the category counts stay as targeted.
    near_miss_src = [r for r in base if r["category"] != "fraud" and SALIENT.search(prompt_template(r))]
    near_miss_src = rng.sample(near_miss_src, N_NEAR_MISS)
    for src in near_miss_src:
        cat, key = src["_key"]
        for _ in range(50):
            twin = fill(cat, key, rng)
            if twin["prompt"] != src["prompt"] and twin["response"] != src["response"]:
                break
        else:
            raise RuntimeError("could not make a near-miss twin")
        twin["_key"] = (cat, key)
        twin["_twin_of"] = id(src)
        victims = [r for r in base if r["category"] == cat and r is not src and "_twin_of" not in r
                   and r not in near_miss_src]
        base.remove(rng.choice(victims))
        base.append(twin)

    rng.shuffle(base)

    # Pick originals for the copies from non-fraud rows that are not part of a near-miss pair.
    twin_ids = {r["_twin_of"] for r in base if "_twin_of" in r}
    candidates = [i for i, r in enumerate(base) if r["category"] != "fraud" and "_twin_of" not in r
                  and id(r) not in twin_ids and i < len(base) - 20]
    picked = rng.sample(candidates, N_EXACT + N_NEAR)
    copies: list[tuple[int, dict, str]] = []
    for n, i in enumerate(picked):
        orig = base[i]
        copy = {"category": orig["category"], "prompt": orig["prompt"], "response": orig["response"]}
        if n < N_EXACT:
            kind = "exact"
        else:
            kind = "near"
            for field, fn in NEAR_EDITS[n - N_EXACT]:
                copy[field] = fn(copy[field], rng)
            assert (copy["prompt"], copy["response"]) != (orig["prompt"], orig["response"])
        copy["_orig"] = id(orig)
        copies.append((i, copy, kind))

    # Insert each copy at a random later position than its original.
    rows = list(base)
    for _i, copy, kind in copies:
        pos_orig = next(k for k, r in enumerate(rows) if id(r) == copy["_orig"])
        rows.insert(rng.randint(pos_orig + 1, len(rows)), copy)
        copy["_kind"] = kind

    by_obj: dict[int, str] = {}
    for k, r in enumerate(rows, start=1):
        r["id"] = f"bw-{k:04d}"
        by_obj[id(r)] = r["id"]

    truth: dict[str, list[list[str]]] = {"exact": [], "near": [], "near_misses": []}
    for r in rows:
        if "_kind" in r:
            truth[r["_kind"]].append([by_obj[r["_orig"]], r["id"]])
        if "_twin_of" in r:
            a, b = sorted([by_obj[r["_twin_of"]], r["id"]])
            truth["near_misses"].append([a, b])
    for v in truth.values():
        v.sort()

    with OUT.open("w", encoding="utf-8") as f:
        for r in rows:
            out = {"id": r["id"], "category": r["category"], "prompt": r["prompt"], "response": r["response"]}
            f.write(json.dumps(out, ensure_ascii=False) + "\n")
    TRUTH.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    validate()


def validate() -> None:
    lines = OUT.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate ids"
    assert all(set(r) == {"id", "category", "prompt", "response"} for r in rows)
    assert all(r["prompt"].strip() and r["response"].strip() and "{" not in r["prompt"] + r["response"]
               for r in rows)
    by_id = {r["id"]: r for r in rows}
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    for a, b in truth["exact"]:
        assert (by_id[a]["prompt"], by_id[a]["response"]) == (by_id[b]["prompt"], by_id[b]["response"])
        assert a < b
    for a, b in truth["near"] + truth["near_misses"]:
        assert (by_id[a]["prompt"], by_id[a]["response"]) != (by_id[b]["prompt"], by_id[b]["response"])
    for a, b in truth["near"]:
        assert a < b
    # No accidental exact duplicates beyond the planned ones.
    seen: Counter = Counter((r["prompt"], r["response"]) for r in rows)
    assert sum(c - 1 for c in seen.values()) == len(truth["exact"])
    print(f"{OUT.name}: {len(rows)} rows, all lines parse, ids unique")
    for cat, n in Counter(r["category"] for r in rows).most_common():
        print(f"  {cat:<13}{n}")
    print(f"{TRUTH.name}: exact={len(truth['exact'])} near={len(truth['near'])} "
          f"near_misses={len(truth['near_misses'])}")


if __name__ == "__main__":
    main()
