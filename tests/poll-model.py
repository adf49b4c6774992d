#!/usr/bin/env python3
"""poll-model.py — the model test of votes (tests/integration/poll_model.sh
runs it against a live palierd). For one open poll, a random plan of votes
is played: residents vote by SMS (Kannel webhook) and by replying to their
invitation (LMTP), change their minds, send unclear answers, and the gateway
retries some SMS, sometimes at the same moment as the original. Residents
are played concurrently (each one's own messages in order, as a phone sends
them); then the poll is closed and late votes are sent. A reference model
computes the expected ballot of each resident; the script prints the
model's ballots, one "resident choice" per line, sorted, for the shell to
compare with the database.

usage: poll-model.py SEED HTTP_BASE LMTP_PORT DOMAIN VOTERS_FILE PHASE
  VOTERS_FILE: lines "resident_id kind address token" (kind sms or email;
  token is the vote+ local part for email voters, "-" for SMS)
  PHASE: "open" plays the votes and prints the model's ballots;
         "late" plays votes after the close and prints how many were sent.
"""
import random
import smtplib
import sys
import threading
import urllib.parse
import urllib.request

seed, base, lmtp_port, domain, voters_file, phase = sys.argv[1:7]
rng = random.Random(int(seed))
voters = [line.split() for line in open(voters_file) if line.strip()]
OPTIONS = ["Oui", "Non", "Sans avis"]
errors = []
lock = threading.Lock()


def sms(phone, msg_id, text):
    q = urllib.parse.urlencode({"secret": "s3cret", "from": phone, "to": "12345",
                                "id": msg_id, "text": text})
    for _ in range(5):
        try:
            with urllib.request.urlopen(f"{base}/sms/kannel?{q}", timeout=30) as r:
                if r.status == 200:
                    return
        except Exception as e:          # a retry, as Kannel would
            last = e
    with lock:
        errors.append(f"sms {msg_id}: {last}")


def email(sender, token, msg_id, text):
    msg = (f"From: <{sender}>\r\nTo: <{token}@{domain}>\r\nSubject: Re: Votre avis\r\n"
           f"Message-ID: <{msg_id}@model.example>\r\n\r\n{text}\r\n\r\n> 1 : Oui\r\n> 2 : Non\r\n")
    for _ in range(5):
        try:
            with smtplib.LMTP("127.0.0.1", int(lmtp_port)) as s:
                s.sendmail(sender, [f"{token}@{domain}"], msg.encode())
                return
        except Exception as e:
            last = e
    with lock:
        errors.append(f"email {msg_id}: {last}")


def answer(choice):
    """How a resident writes option choice (1-based)."""
    return rng.choice([str(choice), OPTIONS[choice - 1], OPTIONS[choice - 1].upper(),
                       f"{choice} merci", f"Bonjour, {OPTIONS[choice - 1].lower()}"])


def plan(voter, n):
    """A resident's messages in order, and the ballot the model expects."""
    rid, kind, address, token = voter
    msgs, ballot = [], None
    for k in range(n):
        msg_id = f"m{seed}-{rid}-{k}"
        roll = rng.random()
        if roll < 0.15:
            text = rng.choice(["1 ou 2", "oui non", "7", "je ne sais pas"])
            if kind == "sms" and text == "je ne sais pas":
                text = "1 ou 2"         # by SMS that would be a post, not a vote
        else:
            choice = rng.randint(1, 3)
            text = answer(choice)
            ballot = choice
        msgs.append((msg_id, text))
        if kind == "sms" and rng.random() < 0.2:
            msgs.append((msg_id, text))  # the gateway sends it again
    return msgs, ballot


def play(voter, msgs):
    rid, kind, address, token = voter
    for msg_id, text in msgs:
        if kind == "sms":
            if rng.random() < 0.3:       # a retry racing the original
                t = threading.Thread(target=sms, args=(address, msg_id, text))
                t.start()
                sms(address, msg_id, text)
                t.join()
            else:
                sms(address, msg_id, text)
        else:
            email(address, token, msg_id, text)


def run(jobs):
    threads = [threading.Thread(target=play, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if phase == "open":
    model, jobs = {}, []
    for v in voters:
        if rng.random() < 0.25:
            continue                    # abstains
        msgs, ballot = plan(v, rng.randint(1, 4))
        jobs.append((v, msgs))
        if ballot is not None:
            model[v[0]] = ballot
    run(jobs)
    for rid in sorted(model, key=int):
        print(rid, model[rid])
else:
    jobs = [(v, [(f"late{seed}-{v[0]}", answer(rng.randint(1, 3)))])
            for v in voters if rng.random() < 0.3]
    run(jobs)
    print(len(jobs))

for e in errors:
    print("error:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
