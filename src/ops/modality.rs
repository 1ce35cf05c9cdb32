//! Modality LUT (rescale slope/intercept → HU), DICOM PS3.3 C.11.1.
