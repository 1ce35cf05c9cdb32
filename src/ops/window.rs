//! VOI windowing, DICOM PS3.3 C.11.2.1.2.
