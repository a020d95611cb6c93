// Staff import (src/staff/): what the report says about a file and its lines; it.ts spreads
// them into the catalogue.
export const staffImportMessages = {
  'staff_import.not_utf8': 'Il file non è in UTF-8: salvalo come «CSV UTF-8» e riprova.',
  'staff_import.empty': 'Il file è vuoto: serve la riga di intestazione e almeno una riga di dati.',
  'staff_import.unreadable': 'Il file non è un CSV leggibile (riga {line}): {reason}.',
  'staff_import.missing_columns': 'Nell\'intestazione mancano le colonne: {columns}.',
  'staff_import.unknown_columns': 'Nell\'intestazione ci sono colonne sconosciute: {columns}.',
  'staff_import.required': 'Campo obbligatorio.',
  'staff_import.fiscal_code': 'Codice fiscale non valido: {problems}.',
  'staff_import.birth_date': 'Data di nascita non valida: usa AAAA-MM-GG o GG/MM/AAAA.',
  'staff_import.sex': 'Sesso non valido: usa M o F.',
  'staff_import.email': 'Indirizzo e-mail non valido.',
  'staff_import.institutional_domain': 'L\'e-mail istituzionale deve terminare con {domain} per questo ruolo.',
  'staff_import.mailbox_state': 'Stato della casella non valido: usa ATTIVA, SOSPESA o CESSATA.',
  'staff_import.school_code': 'Codice meccanografico non valido (10 caratteri, es. RMIC81500X).',
  'staff_import.role': 'Ruolo non valido: usa ds, dsga, assistente_amministrativo, docente o ata.',
  'staff_import.officer_flag': 'Valore non valido: usa sì o no.',
  'staff_import.officer_role': 'Il profilo di Responsabile della sicurezza spetta solo a ds, dsga e assistente_amministrativo.',
  'staff_import.person_differs': 'I dati della persona differiscono da quelli della riga {line} per lo stesso codice fiscale.',
  'staff_import.duplicate': 'Riga ripetuta: stessa scuola e stesso ruolo della riga {line}.',
  'staff_import.type_change': 'Esiste già un\'utenza {existing} per questo codice fiscale: il ruolo richiede un\'utenza {wanted}, che l\'importazione non converte.',
  'staff_import.no_username': 'Nome e cognome senza lettere latine: impossibile formare lo username.',
} as const;
