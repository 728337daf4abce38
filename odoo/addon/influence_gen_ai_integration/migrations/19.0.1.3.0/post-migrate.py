"""19.0.1.3.0: curation fields on generated images (issue 14).

The ORM adds the new columns on upgrade; images stored before it get the
defaults here explicitly (no favourite, undecided), so the Gallery's
filters and influencegen_decide see a value on every row, whatever the
ORM did for the required column.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute("""
        UPDATE influence_gen_generated_image
           SET approval_state = 'undecided'
         WHERE approval_state IS NULL
    """)
    cr.execute("""
        UPDATE influence_gen_generated_image
           SET favorite = FALSE
         WHERE favorite IS NULL
    """)
