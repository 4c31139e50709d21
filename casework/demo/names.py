"""Names for demo people: common British names, with the awkward ones real records hold.

Apostrophes, hyphens, accents, spaces, Gaelic and Welsh spellings and
non-English surnames are all here on purpose: they are what breaks matching,
sorting and CSV handling, so the demo should always carry them.
"""

from __future__ import annotations

COMMON_SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
    "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
    "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill",
    "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen",
    "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths",
    "Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy",
    "Miller", "Cox", "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh",
    "Begum", "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali",
    "Hunt", "Hussain", "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight",
    "Lloyd", "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Dixon", "Harvey", "Pearce",
    "Hardy", "Legg", "Loveless", "Samways", "Guppy", "Dorey", "Chubb", "Symonds", "Hiscock", "Bartlett",
)

AWKWARD_SURNAMES = (
    "O'Brien", "O'Neill", "D'Arcy", "O'Sullivan", "Smith-Jones", "Parker-Bowles", "Lane-Fox",
    "Núñez", "Öztürk", "Müller", "Ní Bhriain", "Ó Súilleabháin", "MacDonald", "McAllister",
    "Mac an tSaoi", "de la Cruz", "van der Berg", "Nguyễn", "Kowalczyk", "Wiśniewski", "St. John",
    "ap Rhys", "Featherstonehaugh", "Gonçalves", "Ferreira-Santos", "Åberg", "Þórsdóttir", "Ødegaard",
    "Çelik", "Dvořák",
)

FEMALE_FORENAMES = (
    "Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophie", "Grace", "Mia", "Poppy", "Ella",
    "Lily", "Evie", "Jessica", "Charlotte", "Hannah", "Sarah", "Emma", "Laura", "Rebecca", "Gemma",
    "Claire", "Nicola", "Karen", "Julie", "Susan", "Margaret", "Patricia", "Jean", "Helen", "Lisa",
    "Kayleigh", "Chelsea", "Jade", "Stacey", "Danielle", "Amy", "Lauren", "Megan", "Chloe", "Holly",
)

AWKWARD_FEMALE_FORENAMES = (
    "Siân", "Zoë", "Chloë", "Renée", "Anaïs", "Aoife", "Niamh", "Saoirse", "Rhiannon", "Bethan",
    "Mary-Jane", "Anne-Marie", "Zuzanna", "Agnieszka", "Małgorzata", "Fatima", "Ayşe", "Mary Ellen",
)

MALE_FORENAMES = (
    "Oliver", "George", "Harry", "Noah", "Jack", "Leo", "Arthur", "Oscar", "Charlie", "Jacob",
    "Thomas", "James", "William", "Daniel", "Joshua", "Ryan", "Liam", "Connor", "Callum", "Kyle",
    "David", "Paul", "Mark", "Andrew", "Richard", "Stephen", "Michael", "Christopher", "Peter", "John",
    "Dean", "Lee", "Wayne", "Craig", "Jamie", "Ben", "Sam", "Tom", "Alfie", "Dylan",
)

AWKWARD_MALE_FORENAMES = (
    "Seán", "Eoin", "Oisín", "Dafydd", "Noël", "Jean-Paul", "José", "Łukasz", "Bartłomiej", "Jörg",
    "Mehmet", "Tomás", "Rhys", "Iolo", "Ciarán", "Zbigniew", "John Paul",
)

NEUTRAL_FORENAMES = ("Alex", "Sam", "Charlie", "Jordan", "Robin", "Frankie", "Jamie", "Rowan", "Ashley", "Ellis")
