//! The ARGOS ID-type enum (URL values of `allowedIdTypes` / `selectedIdType`) and document fields.

use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $s)] $variant,)*
        }

        impl $name {
            /// Every value, in documentation order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The exact (case-sensitive) wire value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s,)* }
            }

            /// Parses the exact (case-sensitive) wire value.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$variant),)* _ => None }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// ID document types (ARGOS `idType`; `foreign_registrator` appears in URL lists only).
    IdType {
        Passport = "passport",
        DriversLicense = "drivers_license",
        GovernmentId = "government_id",
        ResidencePermit = "residence_permit",
        VehicleRegistrationCertificate = "vehicle_registration_certificate",
        Visa = "visa",
        Pancard = "pancard",
        Aadhaar = "aadhaar",
        ForeignRegistrator = "foreign_registrator",
        IdentificationCard = "identification_card",
    }
}

string_enum! {
    /// OCR fields a link may ask to show for review (`allowedDocumentFields`).
    DocumentField {
        Gender = "gender",
        Nationality = "nationality",
        ExpiryDate = "expiry_date",
        Number = "number",
        IssueDate = "issue_date",
        IdNumber = "id_number",
        SerialNumber = "serial_number",
        Name = "name",
        DateOfBirth = "date_of_birth",
        CurpNumber = "curp_number",
        Version = "version",
        TypeOfPermit = "type_of_permit",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_round_trip() {
        for t in IdType::ALL {
            assert_eq!(IdType::parse(t.as_str()), Some(*t));
            assert_eq!(
                serde_json::to_string(t).unwrap(),
                format!("\"{}\"", t.as_str())
            );
        }
        for f in DocumentField::ALL {
            assert_eq!(DocumentField::parse(f.as_str()), Some(*f));
        }
        assert_eq!(IdType::ALL.len(), 10);
        assert_eq!(IdType::parse("Passport"), None, "case-sensitive");
    }
}
