#!/bin/sh
# gen-roster.sh — prints a fictional, deterministic resident roster (CSV) on stdout.
#
#   tests/gen-roster.sh N [SEED]   N residents (1..200000) in one city,
#                                  ceil(N/2000) districts, ceil(N/40) buildings
#   tests/gen-roster.sh --demo     the demo town, as saved in demo/roster.csv
#
# Columns: city,district,building,building_address,unit,name,email,phone,digest,sms
# RFC 4180: fields holding a comma or a double quote are quoted.
#
# Output is byte-identical for the same arguments on any machine and any
# POSIX awk (mawk, gawk, ...): randomness comes from an LCG inside the awk
# program (modulus 2^32, exact in doubles), never from rand(); the program
# runs in the C locale, so strings are bytes; no array is ever walked with
# "for (k in a)". AWK=gawk tests/gen-roster.sh ... picks another awk.
#
# Everyone is fictional. Emails use only the reserved example domains
# (example.fr/.com/.org/.net and subdomains of them). Phones come only from
# the blocks that ARCEP sets aside for fiction, which are never assigned to
# a subscriber: 01 99 00, 02 61 91, 03 53 01, 04 65 71 and 05 36 49 (xx xx),
# 10 000 numbers each, all of which palier normalises to +33. The sixth
# fiction block, 06 39 98, is left out: 0639 is Mayotte's mobile prefix and
# palier maps it to +262. So there are at most 50 000 distinct phones; when
# N is large enough that ~80% of residents with a phone would need more
# (N > ~60 000), fewer residents get a phone (the others become email-only)
# and a note says so on stderr. No number outside those blocks is ever made.
set -eu
LC_ALL=C
export LC_ALL
AWK=${AWK:-awk}

usage() {
	echo "usage: $0 N [SEED]   (1 <= N <= 200000, SEED a non-negative integer)" >&2
	echo "       $0 --demo" >&2
	exit 2
}

[ $# -ge 1 ] || usage
if [ "$1" = "--demo" ]; then
	[ $# -eq 1 ] || usage
	mode=demo n=0 seed=25	# a seed whose mix lands on 60/20/20
else
	[ $# -le 2 ] || usage
	case $1 in ''|*[!0-9]*) usage ;; esac
	[ ${#1} -le 6 ] || usage
	n=$1
	[ "$n" -ge 1 ] && [ "$n" -le 200000 ] || usage
	seed=${2:-1}
	case $seed in ''|*[!0-9]*) usage ;; esac
	[ ${#seed} -le 12 ] || usage
	mode=n
fi

prog=$(cat <<'AWK'
# ---------------------------------------------------------------- helpers
# LCG (Numerical Recipes constants), state < 2^32: S*1664525 < 2^53, exact.
function rnd() {
	S = (S * 1664525 + 1013904223) % 4294967296
	return S / 4294967296
}
function ri(k) { return int(rnd() * k) }		# 0 .. k-1
function csv(s) {
	if (s ~ /[",\r\n]/) { gsub(/"/, "\"\"", s); return "\"" s "\"" }
	return s
}
# ASCII form of a name for an email local part: accents folded, lower case,
# spaces and apostrophes dropped ("N'Diaye" -> "ndiaye", "Le Goff" -> "legoff").
function fold(s,   t) {
	t = s
	gsub(/à|â|ä|á|ã|À|Â|Ä/, "a", t)
	gsub(/é|è|ê|ë|É|È|Ê|Ë/, "e", t)
	gsub(/î|ï|í|ı|Î|Ï/, "i", t)
	gsub(/ô|ö|ó|õ|Ô|Ö/, "o", t)
	gsub(/ù|û|ü|ú|Ù|Û|Ü/, "u", t)
	gsub(/ç|Ç/, "c", t)
	gsub(/ñ/, "n", t)
	gsub(/ÿ/, "y", t)
	gsub(/œ|Œ/, "oe", t)
	gsub(/æ|Æ/, "ae", t)
	t = tolower(t)
	gsub(/[ ']/, "", t)
	if (t !~ /^[a-z][a-z-]*$/) { print "gen-roster: cannot fold " s | "cat 1>&2"; exit 1 }
	return t
}
function roman(k,   o) {	# 1 .. 39
	split("I II III IV V VI VII VIII IX", o, " ")
	return substr("XXX", 1, int(k / 10)) ((k % 10) ? o[k % 10] : "")
}
function ordinal(f) { return (f == 1) ? "1er" : f "e" }

# ---------------------------------------------------------------- tables
function tables(   i, j, a) {
	NF_ = split("Marie|Marie-Thérèse|Marie-Claire|Marie-Christine|Marie-Laure|Anne|Anne-Sophie|Anne-Marie|" \
	  "Élodie|Hélène|Céline|Chloé|Léa|Manon|Camille|Inès|Zoé|Maëlle|Océane|Émilie|Sophie|Nathalie|" \
	  "Isabelle|Sylvie|Françoise|Monique|Geneviève|Thérèse|Josiane|Brigitte|Christiane|Valérie|" \
	  "Sandrine|Stéphanie|Aurélie|Laëtitia|Noémie|Agnès|Bérénice|Clémence|Héloïse|Anaïs|Gaëlle|" \
	  "Solène|Margaux|Juliette|Louise|Alice|Jeanne|Lucie|Amélie|Élise|Mélanie|Pauline|Justine|" \
	  "Odile|Colette|Danièle|Josette|Yvette|Martine|Dominique|Pascale|Corinne|Véronique|Karine|" \
	  "Fatima|Yasmina|Aïcha|Khadija|Nadia|Leïla|Samia|Fatoumata|Awa|Aminata|Mariama|Linh|Mai|" \
	  "Ana|Maria|Sofia|Ioana|Elif|Zeynep|Agnieszka|Giulia|Rose|Jade|Lina|Mila|Ambre|Capucine|" \
	  "Jean|Jean-Baptiste|Jean-Pierre|Jean-Luc|Jean-François|Jean-Marc|Jean-Claude|Jean-Paul|" \
	  "Pierre|Pierre-Yves|Pierre-Louis|Paul|Louis|Hugo|Lucas|Théo|Mathéo|Noé|Raphaël|Gaël|" \
	  "Loïc|Yannick|Erwan|Tanguy|Maël|Benoît|Jérôme|Sébastien|Stéphane|Frédéric|Grégoire|" \
	  "François|Gérard|Michel|Bernard|André|René|Hervé|Thierry|Olivier|Nicolas|Antoine|" \
	  "Mathieu|Julien|Maxime|Clément|Bastien|Aurélien|Timothée|Éric|Cédric|Régis|Joël|Noël|" \
	  "Guy|Marcel|Roger|Lucien|Gilles|Patrice|Christophe|Arnaud|Damien|Florian|Quentin|" \
	  "Mohamed|Karim|Youssef|Rachid|Mehdi|Samir|Bilal|Moussa|Mamadou|Ibrahima|Ousmane|" \
	  "Cheikh|Minh|Duc|Tuan|João|José|Manuel|Carlos|Miguel|Luca|Kévin|Anthony|Dylan|Enzo|" \
	  "Mehmet|Emre|Piotr|Andrei|Gabriel|Arthur|Jules|Adam|Nathan|Ethan|Sacha|Aloïs", FN, "|")
	NL_ = split("Martin|Bernard|Thomas|Petit|Robert|Richard|Durand|Dubois|Moreau|Laurent|Simon|" \
	  "Michel|Lefèvre|Leroy|Roux|David|Bertrand|Morel|Fournier|Girard|Bonnet|Dupont|Lambert|" \
	  "Fontaine|Rousseau|Vincent|Muller|Lefebvre|Faure|André|Mercier|Blanc|Guérin|Boyer|" \
	  "Garnier|Chevalier|François|Legrand|Gauthier|Garcia|Perrin|Robin|Clément|Morin|Nicolas|" \
	  "Henry|Roussel|Mathieu|Gautier|Masson|Marchand|Duval|Denis|Dumont|Lemaire|Noël|Meyer|" \
	  "Dufour|Meunier|Brun|Blanchard|Giraud|Joly|Rivière|Lucas|Brunet|Gaillard|Barbier|" \
	  "Arnaud|Martinez|Gérard|Roche|Renard|Schmitt|Roy|Leroux|Colin|Vidal|Caron|Picard|Roger|" \
	  "Fabre|Aubert|Lemoine|Renaud|Dumas|Lacroix|Olivier|Philippe|Bourgeois|Pierre|Benoît|Rey|" \
	  "Leclerc|Payet|Rolland|Leclercq|Guillaume|Lecomte|Lopez|Dupuy|Guillot|Hubert|Berger|" \
	  "Carpentier|Sanchez|Dupuis|Moulin|Deschamps|Huet|Vasseur|Perez|Boucher|Fleury|Royer|" \
	  "Klein|Jacquet|Adam|Poirier|Marty|Aubry|Guyot|Carré|Charles|Renault|Charpentier|Ménard|" \
	  "Maillard|Baron|Bertin|Bailly|Hervé|Schneider|Fernandez|Le Gall|Collet|Léger|Bouvier|" \
	  "Julien|Prévost|Millet|Perrot|Daniel|Le Roux|Cousin|Germain|Breton|Besson|Langlois|Rémy|" \
	  "Le Goff|Pelletier|Lévêque|Perrier|Leblanc|Barré|Lebrun|Marchal|Weber|Mallet|Hamon|" \
	  "Boulanger|Jacob|Monnier|Michaud|Rodriguez|Guichard|Gillet|Étienne|Grondin|Poulain|" \
	  "Tessier|Chevallier|Collin|Chauvin|Da Silva|Bouchet|Lemaître|Bénard|Maréchal|Humbert|" \
	  "Reynaud|Antoine|Hoarau|Perret|Barthélemy|Cordier|Pichon|Lejeune|Gilbert|Lamy|Delaunay|" \
	  "Pasquier|Carlier|Laporte|Le Bihan|Le Guen|Kerbrat|Tanguy|Le Floch|Quéméner|N'Diaye|" \
	  "Diallo|Traoré|Koné|Diop|Sow|Camara|Sissoko|Benali|Benhamou|Bouzid|Haddad|Mansouri|" \
	  "Belkacem|Cherif|Ouali|Amrani|Nguyen|Tran|Pham|Hoang|Dupont-Moreau|Martin-Leclerc|" \
	  "Lefèvre-Dubois|Saint-Martin|Bonnet-Lambert|Roussel-Garnier|De Oliveira|Dos Santos|" \
	  "Pereira|Ferreira|Rodrigues|Gonçalves|D'Almeida|Rossi|Russo|Bianchi|Kowalski|Nowak|" \
	  "Yılmaz|Öztürk|Papadopoulos|Ionescu|Abgrall|Guillou|Le Meur|Jaouen|Thébault|Chauveau|" \
	  "Gaudin|Brochard|Boisseau|Bodin|Raimbault|Rabouin|Cesbron|Mabileau", LN, "|")
	for (i = 1; i <= NF_; i++) FS_[i] = fold(FN[i])
	for (i = 1; i <= NL_; i++) LS_[i] = fold(LN[i])

	ND_ = split("example.fr|example.fr|example.fr|example.fr|example.fr|example.fr|example.fr|" \
	  "example.com|example.com|example.com|example.com|example.org|example.org|example.org|" \
	  "example.net|example.net|example.net|mail.example.fr|mail.example.fr|courriel.example.org", DOM, "|")

	# ARCEP's fiction blocks, the local one (02, west of France) first.
	NB_ = split("02 61 91|01 99 00|03 53 01|04 65 71|05 36 49", PB, "|")
	for (i = 1; i <= NB_; i++) { PC[i] = 0; PO[i] = ri(10000) }
	split("60|10|10|10|10", PW, "|")

	NST = split("rue des Écoles|avenue de la Gare|boulevard Victor-Hugo|rue Jean-Jaurès|" \
	  "place de la Mairie|rue du Maréchal-Foch|impasse des Lilas|chemin des Prés|quai de Loire|" \
	  "rue Pasteur|avenue Jean-Moulin|rue de la République|rue Gambetta|rue Voltaire|" \
	  "rue Nationale|rue du Moulin|allée des Acacias|rue de l'Église|rue du Général-de-Gaulle|" \
	  "avenue des Sports|rue des Lavandières|rue Émile-Zola|rue Georges-Clemenceau|" \
	  "rue de la Paix|rue des Jardins|rue du Château|rue de Verdun|boulevard de la Liberté|" \
	  "rue Saint-Aubin|avenue de Bretagne|rue d'Anjou|rue de Touraine|rue des Vignes|" \
	  "rue Anatole-France|rue Paul-Bert|rue Jules-Ferry|rue Aristide-Briand|rue Alsace-Lorraine|" \
	  "rue de la Fontaine|rue du Stade|rue des Peupliers|avenue du 8-Mai-1945|" \
	  "rue du 11-Novembre|place du Marché|rue de la Poste|rue des Tanneurs|quai des Mariniers|" \
	  "levée de la Loire|rue de la Marne|rue Carnot|rue Jean-Macé|rue Marcel-Pagnol|" \
	  "rue Albert-Camus|allée Simone-Veil|rue Lucie-Aubrac|rue Germaine-Tillion|" \
	  "rue Olympe-de-Gouges|square Marie-Curie|rue Jacques-Prévert|" \
	  "rue Antoine-de-Saint-Exupéry|boulevard des Belges|rue du Docteur-Schweitzer|" \
	  "chemin de la Croix-Blanche|route de Nantes|route d'Angers|rue de Saumur|" \
	  "allée des Cerisiers|rue des Coteaux|rue du Coteau|impasse du Lavoir", ST, "|")

	NDI = split("Centre-Ville|Les Prés|Quartier de la Gare|Bellevue|Les Coteaux|Le Bourg|" \
	  "La Croix-Blanche|Les Fontaines|Saint-Martin|Le Port|Les Rives de Loire|La Chesnaie|" \
	  "Les Hauts de Loire|Le Moulin|La Madeleine|Les Sablons|Le Val|La Garenne|Les Mariniers|" \
	  "Les Châtaigniers|La Roseraie|Le Plessis|Les Varennes|La Prairie|Le Vieux Bourg|" \
	  "Beaulieu|Les Perrières|Le Champ de Foire|Les Ardillers|La Motte", DI, "|")
	split("| Nord| Sud| Est| Ouest", DQ, "|")

	# Building name stems: "A form|D form" (Les Tilleuls|des Tilleuls).
	NSTEM = split("Les Tilleuls:des Tilleuls|Les Acacias:des Acacias|Les Glycines:des Glycines|" \
	  "Les Mimosas:des Mimosas|Les Peupliers:des Peupliers|Les Cèdres:des Cèdres|" \
	  "Les Érables:des Érables|Les Charmes:des Charmes|Les Marronniers:des Marronniers|" \
	  "Les Lilas:des Lilas|Les Platanes:des Platanes|Les Hortensias:des Hortensias|" \
	  "Les Camélias:des Camélias|Les Bleuets:des Bleuets|Les Coquelicots:des Coquelicots|" \
	  "Les Iris:des Iris|Les Magnolias:des Magnolias|Les Saules:des Saules|Les Chênes:des Chênes|" \
	  "Les Bouleaux:des Bouleaux|Les Ormes:des Ormes|Les Frênes:des Frênes|Les Pins:des Pins|" \
	  "Les Oliviers:des Oliviers|Les Lauriers:des Lauriers|Les Jonquilles:des Jonquilles|" \
	  "Les Violettes:des Violettes|Les Pervenches:des Pervenches|Les Genêts:des Genêts|" \
	  "Les Bruyères:des Bruyères|Les Aubépines:des Aubépines|Les Noisetiers:des Noisetiers|" \
	  "Les Cerisiers:des Cerisiers|Les Pommiers:des Pommiers|Les Vignes:des Vignes|" \
	  "Les Sources:des Sources|Les Vergers:des Vergers|Les Mésanges:des Mésanges|" \
	  "Les Hirondelles:des Hirondelles|Les Alouettes:des Alouettes|Les Rossignols:des Rossignols|" \
	  "Les Fauvettes:des Fauvettes|Les Mûriers:des Mûriers|Les Roseaux:des Roseaux|" \
	  "Les Tourterelles:des Tourterelles|Les Capucines:des Capucines|Les Dahlias:des Dahlias|" \
	  "Les Tulipes:des Tulipes|Les Pivoines:des Pivoines|Les Églantines:des Églantines|" \
	  "La Roseraie:de la Roseraie|La Chênaie:de la Chênaie|La Sapinière:de la Sapinière|" \
	  "La Prairie:de la Prairie|La Source:de la Source|La Garenne:de la Garenne|" \
	  "L'Orangerie:de l'Orangerie|L'Ermitage:de l'Ermitage|Le Verger:du Verger|" \
	  "Le Moulin:du Moulin|Le Lavoir:du Lavoir|Le Belvédère:du Belvédère|Le Parc:du Parc|" \
	  "Le Château:du Château|La Fontaine:de la Fontaine|Le Vieux Pont:du Vieux Pont", STEM, "|")
	for (i = 1; i <= NSTEM; i++) {
		split(STEM[i], a, ":"); SA[i] = a[1]; SD[i] = a[2]
		SSING[i] = (SD[i] !~ /^des /)
	}
	NPAT = split("Résidence|Le Clos|Les Jardins|Le Hameau|Les Terrasses|Le Domaine|" \
	  "Les Allées|Le Carré|Les Balcons", PAT, "|")
	NTOW = split("Bellevue|Panorama|Horizon|Azur|Belvédère|Les Mouettes|Beauregard|" \
	  "Montaigne|Ronsard|Rabelais|Du Bellay|Bel-Air", TOW, "|")
	split("A|B|C|D|E|F|G|H", LET, "|")

	# Every "nice" building name once, in a seeded order.
	NNICE = 0
	for (i = 1; i <= NSTEM; i++)
		for (j = 1; j <= NPAT; j++) {
			if (SA[i] == "Le Parc" && PAT[j] != "Résidence") continue
			NICEP[++NNICE] = j; NICES[NNICE] = i
		}
	for (i = 1; i <= NTOW; i++) { NICEP[++NNICE] = 0; NICES[NNICE] = i }
	shuffle2(NICEP, NICES, NNICE)
	for (i = 1; i <= NSTEM; i++) LSTEM[i] = i
	shuffle1(LSTEM, NSTEM)
}
function shuffle1(x, k,   i, j, t) {
	for (i = k; i > 1; i--) { j = 1 + ri(i); t = x[i]; x[i] = x[j]; x[j] = t }
}
function shuffle2(x, y, k,   i, j, t) {
	for (i = k; i > 1; i--) {
		j = 1 + ri(i)
		t = x[i]; x[i] = x[j]; x[j] = t
		t = y[i]; y[i] = y[j]; y[j] = t
	}
}
# The m-th nice building name (m from 0; past the list, " II", " III" ...).
function nice_name(m,   k, ph, p, s, nm) {
	k = m % NNICE + 1; ph = int(m / NNICE)
	p = NICEP[k]; s = NICES[k]
	if (p == 0) nm = "Tour " TOW[s]
	else if (PAT[p] == "Résidence") {
		if (SSING[s]) nm = "Résidence " SD[s]
		else if (rnd() < .12) nm = "Résidence \"" SA[s] "\""	# as some landlords write it
		else nm = "Résidence " SA[s]
	} else nm = PAT[p] " " SD[s]
	if (ph > 0) nm = nm " " roman(ph + 1)
	return nm
}

# ---------------------------------------------------------------- addresses
function new_address(street, num,   key, bis) {
	bis = (rnd() < .05) ? " bis" : ""
	key = num bis "|" street
	if (key in USEDADDR) return ""
	USEDADDR[key] = 1
	return (rnd() < .15) ? num bis ", " street : num bis " " street
}

# ---------------------------------------------------------------- the town
function town_n(n,   D, B, b, d, w, tot, cum, prev, g, gl, gs, gi, dend, m, st, num, i, ad) {
	D = int((n + 1999) / 2000); B = int((n + 39) / 40)
	for (i = 1; i <= NDI; i++) DORD[i] = i
	shuffle1(DORD, NDI)
	for (d = 0; d < D; d++) {
		if (d < 5 * NDI) DNAME[d] = DI[DORD[d % NDI + 1]] DQ[int(d / NDI) + 1]
		else DNAME[d] = "Secteur " (d + 1)
	}
	# Sizes vary between buildings (weights 0.5 .. 1.5), summing to n.
	tot = 0
	for (b = 1; b <= B; b++) { w[b] = .5 + rnd(); tot += w[b] }
	cum = 0; prev = 0
	for (b = 1; b <= B; b++) {
		cum += w[b]
		m = (b == B) ? n : int(cum / tot * n + .5)
		BC[b] = m - prev; prev = m
	}
	for (b = 1; b <= B; b++) { BDI[b] = int((b - 1) * D / B); dend[BDI[b]] = b }
	m = 0; g = 0; gl = 0
	for (b = 1; b <= B; b++) {
		d = BDI[b]
		BD[b] = DNAME[d]
		if (gl == 0 && b < dend[d] && rnd() < .07) {
			# a complex of lettered buildings: "Bâtiment A - Les Acacias", "Bâtiment B - ..."
			# side by side in one district and one street
			gl = 2 + ri(3); if (gl > dend[d] - b + 1) gl = dend[d] - b + 1
			gs = g++; gi = 0
			st = ST[1 + ri(NST)]; num = 1 + ri(150)
		}
		if (gl > 0) {
			BN[b] = "Bâtiment " LET[gi + 1] " - " SA[LSTEM[gs % NSTEM + 1]]
			if (gs >= NSTEM) BN[b] = BN[b] " " roman(int(gs / NSTEM) + 1)
			ad = ""
			while (ad == "") { ad = new_address(st, num); num += 2 }
			BA[b] = ad
			BS[b] = (gi == 0) ? 1 + ri(3) : BS[b - 1]
			BP[b] = doors(BC[b], 3 + ri(4), BS[b])
			BK[b] = (gi == 0) ? (rnd() < .3) : BK[b - 1]
			gi++; gl--
			continue
		}
		BN[b] = nice_name(m++)
		ad = ""
		while (ad == "") ad = new_address(ST[1 + ri(NST)], 1 + ri(160))
		BA[b] = ad
		if (BN[b] ~ /^Tour /) { BS[b] = 4; BP[b] = doors(BC[b], 8 + ri(8), 4) }
		else {
			BS[b] = 1 + ri(5)
			if (BS[b] == 3 && BC[b] > 36) BS[b] = 1
			BP[b] = doors(BC[b], 3 + ri(5), BS[b])
		}
		BK[b] = (rnd() < .3)
	}
	NBLD = B
}

# Doors per floor for about c residents (1.73 a unit) on fl floors.
function doors(c, fl, style,   k) {
	k = int(c / 1.73 / fl + .999)
	if (k < 2) k = 2
	if (k > ((style == 3) ? 3 : 8)) k = (style == 3) ? 3 : 8
	return k
}

# Demo: Saint-Aubin-sur-Loire, 4 districts, 10 buildings, 340 residents.
# name | district | address | residents | unit style | doors per floor | comma in unit
function town_demo(   rows, r, i) {
	split("Résidence Les Tilleuls|Centre-Ville|12 rue des Écoles|36|1|4|0;" \
	  "Le Clos des Vignes|Centre-Ville|3, place de l'Église|22|3|2|0;" \
	  "Résidence du Parc|Centre-Ville|27 avenue Jean-Jaurès|40|2|4|0;" \
	  "Bâtiment A - Les Acacias|Les Prés|5 allée des Acacias|30|1|3|0;" \
	  "Bâtiment B - Les Acacias|Les Prés|7 allée des Acacias|30|1|3|0;" \
	  "Les Jardins d'Émilie|Les Prés|14 chemin des Prés|26|5|2|0;" \
	  "Résidence de la Gare|Quartier de la Gare|2 bis, avenue de la Gare|34|3|3|1;" \
	  "Le Square Pasteur|Quartier de la Gare|41 rue Pasteur|28|2|4|0;" \
	  "Tour Bellevue|Bellevue|1 place du Belvédère|64|4|4|0;" \
	  "Résidence \"Les Hauts de Loire\"|Bellevue|18 rue du Coteau|30|3|3|0", rows, ";")
	for (i = 1; i <= 10; i++) {
		split(rows[i], r, "|")
		BN[i] = r[1]; BD[i] = r[2]; BA[i] = r[3]; BC[i] = r[4] + 0
		BS[i] = r[5] + 0; BP[i] = r[6] + 0; BK[i] = r[7] + 0
	}
	NBLD = 10
}

# ---------------------------------------------------------------- units
# k-th unit (from 0) of building b; distinct k give distinct labels.
function unit_label(b, k,   f, d, ppf) {
	ppf = BP[b]
	if (BS[b] == 1) {			# "3B", "RDC A"
		f = int(k / ppf); d = substr("ABCDEFGH", k % ppf + 1, 1)
		return (f == 0) ? "RDC " d : f d
	}
	if (BS[b] == 2) return "Appt " (k + 1)
	if (BS[b] == 3) {			# "2e étage porte droite", "RDC gauche"
		f = int(k / ppf)
		d = (ppf == 2) ? ((k % 2) ? "droite" : "gauche") \
		               : ((k % 3 == 0) ? "gauche" : (k % 3 == 1) ? "face" : "droite")
		if (f == 0) return "RDC " d
		return ordinal(f) " étage" (BK[b] ? ", porte " : " porte ") d
	}
	if (BS[b] == 4) {			# tower: "Appt 1204"
		f = int(k / ppf) + 1
		return "Appt " (f * 100 + k % ppf + 1)
	}
	return "Logement " (k + 1)
}

# ---------------------------------------------------------------- residents
function email(fi, li,   f, l, u, base, dom, e, k) {
	f = FS_[fi]; l = LS_[li]
	u = rnd()
	if (u < .45) base = f "." l
	else if (u < .60) base = substr(f, 1, 1) "." l
	else if (u < .70) base = f l
	else if (u < .80) base = l "." f
	else if (u < .95) base = f "." l sprintf("%02d", (40 + ri(70)) % 100)
	else base = f "_" l
	dom = DOM[1 + ri(ND_)]
	e = base "@" dom
	if (!(e in USEDMAIL)) { USEDMAIL[e] = 1; return e }
	for (k = 2; ; k++) {
		e = base k "@" dom
		if (!(e in USEDMAIL)) { USEDMAIL[e] = 1; return e }
	}
}
function phone(   u, j, t, x, p, q, r) {
	u = rnd() * 100; t = 0
	for (j = 1; j < NB_; j++) { t += PW[j]; if (u < t) break }
	while (PC[j] >= 10000) j = j % NB_ + 1		# block full: the next one
	x = (PC[j]++ * 7919 + PO[j]) % 10000		# 7919 is prime to 10^4: a bijection
	NPHONE++
	p = PB[j]
	q = sprintf("%02d", int(x / 100)); r = sprintf("%02d", x % 100)
	u = rnd()
	if (u < .50) return p " " q " " r
	if (u < .65) { gsub(/ /, ".", p); return p "." q "." r }
	if (u < .85) { gsub(/ /, "", p); return p q r }
	return "+33 " substr(p, 2) " " q " " r
}
function building(b,   pre, left, k, h, u, sur, s2, j, fi, nm, hn, i, dup, unit, cat, em, ph, dg, sms) {
	pre = csv(CITY) "," csv(BD[b]) "," csv(BN[b]) "," csv(BA[b]) ","
	left = BC[b]; k = 0
	while (left > 0) {
		u = rnd()
		h = (u < .45) ? 1 : (u < .85) ? 2 : (u < .97) ? 3 : 4
		if (h > left) h = left
		unit = csv(unit_label(b, k++))
		sur = 1 + ri(NL_)
		for (j = 1; j <= h; j++) {
			s2 = (j > 1 && rnd() < .3) ? 1 + ri(NL_) : sur
			do {
				fi = 1 + ri(NF_); nm = FN[fi] " " LN[s2]
				dup = 0
				for (i = 1; i < j; i++) if (hn[i] == nm) dup = 1
			} while (dup)
			hn[j] = nm
			u = rnd()
			cat = (u < PBOTH) ? 1 : (u < PBOTH + PPHONE) ? 2 : 3
			if (cat != 3 && NPHONE >= PHCAP) {
				cat = 3
				if (!WARNED) { print "gen-roster: the 50000 fiction phone numbers are used up; the rest are email-only" | "cat 1>&2"; WARNED = 1 }
			}
			em = (cat != 2) ? email(fi, s2) : ""
			ph = (cat != 3) ? phone() : ""
			u = rnd()
			dg = (u < .62) ? "daily" : (u < .84) ? "weekly" : (u < .93) ? "immediate" : "none"
			sms = (cat == 2) ? "yes" : (cat == 1 && rnd() < 1 / 3) ? "yes" : "no"
			print pre unit "," csv(nm) "," em "," ph "," dg "," sms
		}
		left -= h
	}
}

BEGIN {
	S = (seed + 0) % 4294967296
	for (i = 0; i < 8; i++) rnd()
	CITY = "Saint-Aubin-sur-Loire"
	PHCAP = 50000
	tables()
	if (mode == "demo") town_demo(); else town_n(n + 0)
	# 60% email+phone, 20% email only, 20% phone only; fewer phones when
	# the fiction blocks cannot give ~80% of n residents a number.
	f = 1
	if (mode != "demo" && .8 * n > .97 * PHCAP) {
		f = .97 * PHCAP / (.8 * n)
		printf("gen-roster: only %d fiction phone numbers: about %d%% of residents get a phone, not 80%%\n", \
		    PHCAP, int(80 * f + .5)) | "cat 1>&2"
	}
	PBOTH = .6 * f; PPHONE = .2 * f
	print "city,district,building,building_address,unit,name,email,phone,digest,sms"
	for (b = 1; b <= NBLD; b++) building(b)
	exit 0
}
AWK
)

exec $AWK -v mode="$mode" -v n="$n" -v seed="$seed" "$prog" </dev/null
